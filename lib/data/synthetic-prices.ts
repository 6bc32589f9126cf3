/**
 * Seeded synthetic price panels whose returns have a known structure, to judge a trading model against
 * simple rules on data where the answer is known:
 *
 *   trend regimes     r_t = s_t μ + σ ε_t, s_t ∈ {−1, +1} switching with probability 1/L a day (regimes of
 *                     mean length L days); μ/σ·√252 is the annualised Sharpe a trader who knew s_t would earn;
 *                     time-series momentum sees s_t with a lag, so it earns part of that
 *   mean reversion    r_t = −φ r_{t−1} + σ ε_t (φ ∈ (0, 1)): yesterday's move partly reverses
 *   random walk       r_t = σ ε_t: nothing to learn; any clear profit is a leak or luck
 *
 * Every asset is independent; ε_t standard normal from xoshiro128** (the same seed, the same bits).
 * Closes only, every day listed, weekday dates from 2000-01-03.
 */
import { InvalidArgumentError } from '../errors.js';
import { Xoshiro128 } from '../random/prng.js';
import type { PricePanel } from './price-panel.js';

export type ReturnProcess =
  | { kind: 'trend'; regimeDays: number; sharpe: number }
  | { kind: 'mean-reversion'; phi: number }
  | { kind: 'random-walk' };

export interface SyntheticPricesOptions {
  seed: number;
  symbols?: number;
  days?: number;
  /** Daily volatility σ (default 0.01, about 16% a year). */
  dailyVol?: number;
  process: ReturnProcess;
}

function weekdays(n: number): string[] {
  const out: string[] = [];
  for (let ms = Date.UTC(2000, 0, 3); out.length < n; ms += 86_400_000) {
    const wd = new Date(ms).getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(new Date(ms).toISOString().slice(0, 10));
  }
  return out;
}

function check(o: SyntheticPricesOptions): void {
  const p = o.process;
  if (p.kind === 'trend' && !(p.regimeDays >= 1 && Number.isFinite(p.sharpe))) {
    throw new InvalidArgumentError('trend: regimeDays ≥ 1 and a finite sharpe', 'process');
  }
  if (p.kind === 'mean-reversion' && !(p.phi > 0 && p.phi < 1)) throw new InvalidArgumentError('mean-reversion: phi in (0, 1)', 'process');
}

export function syntheticPrices(o: SyntheticPricesOptions): PricePanel {
  check(o);
  const S = o.symbols ?? 12;
  const D = o.days ?? 3000;
  const sigma = o.dailyVol ?? 0.01;
  const rng = new Xoshiro128(o.seed);
  const close = new Float64Array(S * D);
  for (let s = 0; s < S; s++) {
    let p = 100;
    let sign = rng.uniform() < 0.5 ? -1 : 1;
    let prev = 0;
    for (let t = 0; t < D; t++) {
      const e = rng.normal();
      let r: number;
      if (o.process.kind === 'trend') {
        if (rng.uniform() < 1 / o.process.regimeDays) sign = -sign;
        r = sign * ((o.process.sharpe / Math.sqrt(252)) * sigma) + sigma * e;
      } else if (o.process.kind === 'mean-reversion') {
        r = -o.process.phi * prev + sigma * e;
      } else r = sigma * e;
      prev = r;
      p *= 1 + r;
      close[s * D + t] = p;
    }
  }
  return {
    symbols: Array.from({ length: S }, (_, i) => `S${String(i).padStart(2, '0')}`),
    dates: weekdays(D),
    close,
    listed: new Uint8Array(S * D).fill(1),
    filled: new Uint8Array(S * D),
    hasOhlcv: false,
  };
}
