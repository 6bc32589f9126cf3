/** Targets: next-day, volatility-scaled next-day (X-Trend) and forward returns, each with its horizon. */
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { buildTargets } from '../../lib/data/targets.js';
import { randomPanel } from './helpers.js';

describe('buildTargets', () => {
  const panel = randomPanel({ symbols: 2, days: 400, seed: 8, gap: [200, 205] });
  const D = 400;
  const tg = buildTargets(panel, { horizons: [1, 5, 21] });

  it('next-day return at t is close[t+1]/close[t] - 1; the last day and gaps are NaN', () => {
    for (const t of [0, 17, 398]) expect(tg.nextDayReturn[t]).toBeCloseTo(panel.close[t + 1]! / panel.close[t]! - 1, 6);
    expect(tg.nextDayReturn[D - 1]).toBeNaN();
    expect(tg.nextDayReturn[D + 199]).toBeNaN(); // symbol 1: day 200 is unlisted
    expect(tg.nextDayReturn[D + 200]).toBeNaN();
    expect(tg.horizons).toEqual({ nextDayReturn: 1, scaledNextDayReturn: 1, forward: [1, 5, 21] });
  });

  it('forward returns carry their horizon and read exactly h days ahead', () => {
    const f21 = tg.forward.find((f) => f.horizon === 21)!;
    expect(f21.values[100]).toBeCloseTo(panel.close[121]! / panel.close[100]! - 1, 6);
    for (let t = D - 21; t < D; t++) expect(f21.values[t]).toBeNaN();
    expect(Number.isFinite(f21.values[D - 22]!)).toBe(true);
    expect(Array.from(tg.forward[0]!.values)).toEqual(Array.from(tg.nextDayReturn));
  });

  it('sigma is the ex-ante EWMA(60) daily vol at t and the scaled return is σ_tgt·r_{t+1}/(σ_t·√252)', () => {
    // σ_t from its definition: truncated EWMA std (W = 118) of the returns up to t.
    const t = 250;
    const alpha = 2 / 61;
    const W = 118;
    const r = (j: number): number => panel.close[j]! / panel.close[j - 1]! - 1;
    let z = 0;
    let z2 = 0;
    let m = 0;
    for (let k = 0; k < W; k++) {
      const w = (1 - alpha) ** k;
      z += w;
      z2 += w * w;
      m += w * r(t - k);
    }
    m /= z;
    let v = 0;
    for (let k = 0; k < W; k++) v += (1 - alpha) ** k * (r(t - k) - m) ** 2;
    const sigma = Math.sqrt(((v / z) * z * z) / (z * z - z2));
    expect(tg.sigma[t]).toBeCloseTo(sigma, 7);
    expect(tg.scaledNextDayReturn[t]).toBeCloseTo((0.15 * tg.nextDayReturn[t]!) / (tg.sigma[t]! * Math.sqrt(252)), 6);
    expect(tg.sigma[W - 1]).toBeNaN();
    expect(Number.isFinite(tg.sigma[W]!)).toBe(true);
    const custom = buildTargets(panel, { sigmaTarget: 0.3, volSpan: 20 });
    expect(custom.volSpan).toBe(20);
    expect(Number.isFinite(custom.sigma[50]!)).toBe(true);
  });

  it('sigma at t does not move when later prices do (no look-ahead in the scaling)', () => {
    const p = { ...panel, close: panel.close.slice() };
    for (let j = 301; j < D; j++) p.close[j] = p.close[j]! * 1.5;
    const other = buildTargets(p);
    for (let t = 0; t <= 300; t++) expect(Object.is(other.sigma[t], tg.sigma[t])).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => buildTargets(panel, { horizons: [0] })).toThrow(InvalidArgumentError);
    expect(() => buildTargets(panel, { horizons: [2, 2] })).toThrow(InvalidArgumentError);
    expect(() => buildTargets(panel, { sigmaTarget: -1 })).toThrow(InvalidArgumentError);
  });
});
