/** The rolling primitives against direct window loops, and their bit-exact window dependence. */
import { describe, expect, it } from 'vitest';

import {
  EWMA_TAIL_WEIGHT,
  ewmaMean,
  ewmaStd,
  ewmaWindow,
  rollingExtremeAge,
  rollingMax,
  rollingMin,
  rollingSum,
  rollingVariance,
  spanAlpha,
} from '../../lib/data/rolling.js';
import { Xoshiro128 } from '../../lib/random/prng.js';

function series(n: number, seed: number, nanAt: number[] = []): Float64Array {
  const rng = new Xoshiro128(seed);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  for (const i of nanAt) x[i] = Number.NaN;
  return x;
}

function naive(x: Float64Array, w: number, f: (win: number[]) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let t = 0; t < x.length; t++) {
    if (t < w - 1) {
      out[t] = Number.NaN;
      continue;
    }
    const win = Array.from(x.subarray(t - w + 1, t + 1));
    out[t] = win.some(Number.isNaN) ? Number.NaN : f(win);
  }
  return out;
}

function expectClose(a: Float64Array, b: Float64Array, tol = 1e-10): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i]!)) expect(a[i], `index ${i}`).toBeNaN();
    else expect(Math.abs(a[i]! - b[i]!), `index ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)));
  }
}

describe('rolling primitives', () => {
  const lengths = [1, 2, 7, 50, 203];
  const windows = [1, 2, 3, 5, 7, 20, 64];

  it('rollingSum, rollingMax, rollingMin match direct window loops (with NaN gaps)', () => {
    for (const n of lengths) {
      for (const w of windows) {
        const x = series(n, n * 31 + w, n > 20 ? [3, 17, n - 2] : []);
        expectClose(rollingSum(x, w), naive(x, w, (v) => v.reduce((a, b) => a + b, 0)));
        expectClose(rollingMax(x, w), naive(x, w, (v) => Math.max(...v)), 0);
        expectClose(rollingMin(x, w), naive(x, w, (v) => Math.min(...v)), 0);
      }
    }
  });

  it('rollingVariance is the sample variance', () => {
    const x = series(120, 5, [40]);
    for (const w of [2, 5, 21]) {
      expectClose(
        rollingVariance(x, w),
        naive(x, w, (v) => {
          const m = v.reduce((a, b) => a + b, 0) / v.length;
          return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
        }),
        1e-9,
      );
    }
  });

  it('rollingExtremeAge counts bars since the extreme, ties to the latest', () => {
    const x = Float64Array.from([1, 3, 3, 2, 5, 5, 1, 0, Number.NaN, 4, 2, 1]);
    const age = rollingExtremeAge(x, 3, 'max');
    const expected = naive(x, 3, (v) => {
      const m = Math.max(...v);
      return v.length - 1 - v.lastIndexOf(m);
    });
    expectClose(age, expected, 0);
    const ageMin = rollingExtremeAge(x, 4, 'min');
    expectClose(
      ageMin,
      naive(x, 4, (v) => v.length - 1 - v.lastIndexOf(Math.min(...v))),
      0,
    );
  });

  it('ewmaMean is the renormalised truncated EWMA and ewmaStd the bias-corrected weighted std', () => {
    const x = series(300, 9, [100]);
    for (const span of [3, 10, 60]) {
      const a = spanAlpha(span);
      const W = ewmaWindow(a);
      const wts = Array.from({ length: W }, (_, k) => (1 - a) ** k); // wts[k] for x[t-k]
      const z = wts.reduce((p, q) => p + q, 0);
      const z2 = wts.reduce((p, q) => p + q * q, 0);
      const mean = naive(x, W, (v) => v.reduce((acc, xv, i) => acc + wts[v.length - 1 - i]! * xv, 0) / z);
      expectClose(ewmaMean(x, a), mean, 1e-10);
      const std = naive(x, W, (v) => {
        const m = v.reduce((acc, xv, i) => acc + wts[v.length - 1 - i]! * xv, 0) / z;
        const m2 = v.reduce((acc, xv, i) => acc + wts[v.length - 1 - i]! * (xv - m) ** 2, 0) / z;
        return Math.sqrt((m2 * z * z) / (z * z - z2));
      });
      expectClose(ewmaStd(x, a), std, 1e-9);
    }
  });

  it('truncation rule: dropped tail weight (1-α)^W is at most EWMA_TAIL_WEIGHT and W is the smallest such', () => {
    for (const span of [5, 10, 21, 60, 120]) {
      const a = spanAlpha(span);
      const W = ewmaWindow(a);
      expect((1 - a) ** W).toBeLessThanOrEqual(EWMA_TAIL_WEIGHT * (1 + 1e-12));
      expect((1 - a) ** (W - 1)).toBeGreaterThan(EWMA_TAIL_WEIGHT);
    }
    expect(ewmaWindow(spanAlpha(60))).toBe(118);
  });

  it('every output depends on its window only, bit for bit (values before the window can change freely)', () => {
    const n = 260;
    const x = series(n, 77);
    for (const w of [3, 8, 21, 64]) {
      const fns: [string, (v: Float64Array) => Float64Array][] = [
        ['sum', (v) => rollingSum(v, w)],
        ['max', (v) => rollingMax(v, w)],
        ['ewma', (v) => ewmaMean(v, 2 / (w + 1), w)],
        ['var', (v) => rollingVariance(v, w)],
      ];
      for (const [name, fn] of fns) {
        const base = fn(x);
        for (const t of [w - 1, w + 5, 2 * w - 1, 2 * w, n - 1]) {
          const y = x.slice();
          for (let i = 0; i <= t - w; i++) y[i] = y[i]! * 3 + 1; // perturb everything before the window
          for (let i = t + 1; i < n; i++) y[i] = -y[i]!; // and everything after it
          expect(Object.is(fn(y)[t], base[t]), `${name} w=${w} t=${t}`).toBe(true);
        }
      }
    }
  });
});
