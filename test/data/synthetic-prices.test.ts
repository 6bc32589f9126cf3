/** Synthetic price panels with known return structure: seeded, and each with the statistics it promises. */
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { syntheticPrices } from '../../lib/data/index.js';

function returns(close: Float64Array, D: number, a: number): number[] {
  const r: number[] = [];
  for (let t = 1; t < D; t++) r.push(close[a * D + t]! / close[a * D + t - 1]! - 1);
  return r;
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
function lag1(v: number[]): number {
  const m = mean(v);
  let num = 0;
  let den = 0;
  for (let i = 0; i < v.length; i++) {
    den += (v[i]! - m) ** 2;
    if (i > 0) num += (v[i]! - m) * (v[i - 1]! - m);
  }
  return num / den;
}

describe('syntheticPrices', () => {
  it('is seeded: the same seed gives the same panel, another seed another', () => {
    const a = syntheticPrices({ seed: 1, symbols: 3, days: 500, process: { kind: 'random-walk' } });
    expect(syntheticPrices({ seed: 1, symbols: 3, days: 500, process: { kind: 'random-walk' } }).close).toEqual(a.close);
    expect(syntheticPrices({ seed: 2, symbols: 3, days: 500, process: { kind: 'random-walk' } }).close).not.toEqual(a.close);
    expect(a.dates[0]).toBe('2000-01-03');
    expect(a.listed.every((v) => v === 1)).toBe(true);
  });

  it('random walks have no autocorrelation; mean reversion has lag-1 autocorrelation −φ', () => {
    const D = 20000;
    const rw = syntheticPrices({ seed: 3, symbols: 1, days: D, process: { kind: 'random-walk' } });
    expect(Math.abs(lag1(returns(rw.close, D, 0)))).toBeLessThan(0.03);
    const mr = syntheticPrices({ seed: 3, symbols: 1, days: D, process: { kind: 'mean-reversion', phi: 0.2 } });
    expect(lag1(returns(mr.close, D, 0))).toBeCloseTo(-0.2, 1);
  });

  it('trend regimes: knowing the regime earns about the promised Sharpe, and 63-day momentum a clear part of it', () => {
    const D = 20000;
    const p = syntheticPrices({ seed: 4, symbols: 1, days: D, process: { kind: 'trend', regimeDays: 126, sharpe: 2 } });
    const r = returns(p.close, D, 0);
    // Momentum: the sign of the last 63 days' move, held for the next day.
    const pnl: number[] = [];
    for (let t = 63; t < r.length; t++) pnl.push(Math.sign(p.close[t]! / p.close[t - 63]! - 1) * r[t]!);
    const sharpe = (v: number[]) => (mean(v) / Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)))) * Math.sqrt(252);
    expect(sharpe(pnl)).toBeGreaterThan(0.8);
    expect(sharpe(pnl)).toBeLessThan(2.2);
    expect(() => syntheticPrices({ seed: 1, process: { kind: 'trend', regimeDays: 0, sharpe: 1 } })).toThrow(InvalidArgumentError);
    expect(() => syntheticPrices({ seed: 1, process: { kind: 'mean-reversion', phi: 1 } })).toThrow(InvalidArgumentError);
  });
});
