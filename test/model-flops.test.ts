import { describe, expect, it } from 'vitest';

import { forwardFlops, resolveConfig, rollingFlops } from '../lib/index.js';

describe('FLOP counts', () => {
  const c = resolveConfig({ nFeatures: 64, dHidden: 64, nHeads: 4, lstmLayers: 1, seqLen: 63 });

  it('counts the reference config as the benchmarks print it (76.6 M executed per sequence)', () => {
    const f = forwardFlops(c);
    expect(f.executed).toBe(76_603_520);
    expect(f.straightforward).toBeGreaterThan(2.5 * f.executed);
  });

  it("rolling prediction: the per-window work is every step's recurrent product, gate and enrichment", () => {
    const d = 64;
    const step = 2 * d * 4 * d + 2 * d * 2 * d + 2 * (d * d + d * d + d * 2 * d);
    const r = rollingFlops(c);
    const decoder = r.perWindow - 63 * step;
    expect(decoder).toBeGreaterThan(0);
    expect(decoder).toBeLessThan(step * 63 * 0.15); // the last step's decoder is a small part
    expect(r.perDay).toBe(64 * 2 * d * 2 * d + 2 * 64 * d + 2 * d * d + 2 * d * 2 * 64 + 2 * 64 * 64 + 2 * d * 4 * d);
    // entities add the enrichment's context term per step and the VSN's per day
    const e = rollingFlops({ ...c, nEntities: 30 });
    expect(e.perWindow - r.perWindow).toBe(63 * 2 * d * d);
    expect(e.perDay - r.perDay).toBe(2 * d * d);
    // a second LSTM layer runs both of its products per window (its input is per window too)
    expect(rollingFlops({ ...c, lstmLayers: 2 }).perWindow - r.perWindow).toBe(63 * 2 * 4 * d * d * 2);
  });
});
