/**
 * The simple rules a trading model must beat, as positions z ∈ [−1, 1] per (asset, day) from closes alone,
 * each reading only prices up to its day (the position at t earns the volatility-scaled return of t → t+1
 * in the backtest, exactly as the model's):
 *
 *   long-only        z = 1
 *   TSMOM(k)         z = sign(p_t / p_{t−k} − 1), k = 21, 63, 126, 252   (Moskowitz, Ooi & Pedersen 2012; the
 *                    volatility scaling is the backtest's, as for the model — X-Trend's baseline)
 *   MACD             Baz et al. (2015), as in Deep Momentum Networks / X-Trend: for (S, L) in
 *                    {(8, 24), (16, 48), (32, 96)}, m = EWMA_S(p) − EWMA_L(p) (EWMA with α = 1/S, 1/L),
 *                    q = m / std_63(p), Y = q / std_252(q), φ(Y) = Y e^{−Y²/4} / 0.89; z = mean of φ over the
 *                    three pairs (NaN until every window is full)
 */
import type { PricePanel } from '../data/price-panel.js';

export type BaselineName = 'long-only' | 'tsmom-21' | 'tsmom-63' | 'tsmom-126' | 'tsmom-252' | 'macd';
export const BASELINES: readonly BaselineName[] = ['long-only', 'tsmom-21', 'tsmom-63', 'tsmom-126', 'tsmom-252', 'macd'];

function perAsset(p: PricePanel, f: (close: Float64Array, out: Float32Array) => void): Float32Array {
  const D = p.dates.length;
  const out = new Float32Array(p.symbols.length * D).fill(Number.NaN);
  for (let a = 0; a < p.symbols.length; a++) f(Float64Array.from(p.close.subarray(a * D, (a + 1) * D)), out.subarray(a * D, (a + 1) * D));
  return out;
}

function longOnly(close: Float64Array, out: Float32Array): void {
  for (let t = 0; t < close.length; t++) if (Number.isFinite(close[t]!)) out[t] = 1;
}

function tsmom(k: number) {
  return (close: Float64Array, out: Float32Array): void => {
    for (let t = k; t < close.length; t++) {
      const r = close[t]! / close[t - k]! - 1;
      if (Number.isFinite(r)) out[t] = Math.sign(r);
    }
  };
}

/** Recursive EWMA with α = 1/span, NaN until the first finite value, carried over NaN gaps. */
function ewma(x: Float64Array, span: number): Float64Array {
  const out = new Float64Array(x.length).fill(Number.NaN);
  const alpha = 1 / span;
  let m = Number.NaN;
  for (let t = 0; t < x.length; t++) {
    const v = x[t]!;
    if (Number.isFinite(v)) m = Number.isFinite(m) ? m + alpha * (v - m) : v;
    out[t] = m;
  }
  return out;
}

/** Sample standard deviation over the trailing n values (NaN unless all n are finite). */
function rollingStd(x: Float64Array, n: number): Float64Array {
  const out = new Float64Array(x.length).fill(Number.NaN);
  for (let t = n - 1; t < x.length; t++) {
    let s = 0;
    let ok = true;
    for (let k = t - n + 1; k <= t; k++) {
      if (!Number.isFinite(x[k]!)) {
        ok = false;
        break;
      }
      s += x[k]!;
    }
    if (!ok) continue;
    const m = s / n;
    let v = 0;
    for (let k = t - n + 1; k <= t; k++) v += (x[k]! - m) ** 2;
    out[t] = Math.sqrt(v / (n - 1));
  }
  return out;
}

function macd(close: Float64Array, out: Float32Array): void {
  const pairs = [
    [8, 24],
    [16, 48],
    [32, 96],
  ] as const;
  const priceStd = rollingStd(close, 63);
  const signals = pairs.map(([S, L]) => {
    const fast = ewma(close, S);
    const slow = ewma(close, L);
    const q = Float64Array.from(close, (_, t) => (fast[t]! - slow[t]!) / priceStd[t]!);
    const qStd = rollingStd(q, 252);
    return Float64Array.from(q, (v, t) => {
      const y = v / qStd[t]!;
      return (y * Math.exp(-(y * y) / 4)) / 0.89;
    });
  });
  for (let t = 0; t < close.length; t++) {
    const z = (signals[0]![t]! + signals[1]![t]! + signals[2]![t]!) / 3;
    if (Number.isFinite(z) && Number.isFinite(close[t]!)) out[t] = z;
  }
}

/** [assets, days] positions of a baseline rule on a price panel. */
export function baselinePositions(p: PricePanel, name: BaselineName): Float32Array {
  switch (name) {
    case 'long-only':
      return perAsset(p, longOnly);
    case 'tsmom-21':
      return perAsset(p, tsmom(21));
    case 'tsmom-63':
      return perAsset(p, tsmom(63));
    case 'tsmom-126':
      return perAsset(p, tsmom(126));
    case 'tsmom-252':
      return perAsset(p, tsmom(252));
    case 'macd':
      return perAsset(p, macd);
  }
}
