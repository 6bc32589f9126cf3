/**
 * Labels for training: next-day return, X-Trend's volatility-scaled next-day return and forward returns.
 *
 * A target at day t is a return *from* t: it reads future closes by design, so it is a label, never a
 * feature. Each carries its horizon (how many bars ahead it reads) so leakage checks can purge and embargo
 * training windows correctly. The last `horizon` days of each symbol are NaN.
 *
 * σ_t is the ex-ante daily volatility at t (EWMA of daily returns, span volSpan, truncated like every
 * feature EWMA): it reads only up to t, so scaling a label by it adds no look-ahead.
 */
import { InvalidArgumentError } from '../errors.js';
import { SQRT_252 } from './annualization.js';
import { validatePricePanel, type PricePanel } from './price-panel.js';
import { Scratch, ewmaStd, spanAlpha } from './rolling.js';
import { DEFAULT_SIGMA_TARGET, DEFAULT_VOL_SPAN } from '../defaults.js';

export interface TargetOptions {
  /** Forward-return horizons in bars (default [1, 5, 21]). */
  horizons?: number[];
  /** Span of the EWMA volatility of daily returns (default 60, as X-Trend). */
  volSpan?: number;
  /** Annualised volatility target σ_tgt of the scaled return (default 0.15). */
  sigmaTarget?: number;
}

export interface ForwardTarget {
  /** Bars ahead: values[t] = close[t + horizon] / close[t] - 1. */
  horizon: number;
  values: Float32Array;
}

export interface TargetPanel {
  symbols: string[];
  dates: string[];
  /** [S, D] symbol-major: close[t+1] / close[t] - 1 (horizon 1). */
  nextDayReturn: Float32Array;
  /** [S, D]: leverage_t · r_{t+1}, X-Trend's volatility-scaled next-day return (horizon 1). */
  scaledNextDayReturn: Float32Array;
  /** [S, D]: ex-ante daily volatility σ_t (reads bars up to t only). */
  sigma: Float32Array;
  /** [S, D]: volatilityLeverage(σ_t, σ_tgt), what a unit position at t is scaled by (costs, turnover). */
  leverage: Float32Array;
  forward: ForwardTarget[];
  /** Horizon of every target, in bars ahead of t. */
  horizons: { nextDayReturn: 1; scaledNextDayReturn: 1; forward: number[] };
  volSpan: number;
  sigmaTarget: number;
}

/**
 * σ_tgt / (σ_t · √252): the leverage that brings a unit position at t to the annualised volatility target
 * (X-Trend's volatility scaling); NaN where σ_t is not positive or not known.
 */
export function volatilityLeverage(sigma: number, sigmaTarget: number): number {
  return sigma > 0 ? sigmaTarget / (sigma * SQRT_252) : Number.NaN;
}

export function buildTargets(panel: PricePanel, opts: TargetOptions = {}): TargetPanel {
  validatePricePanel(panel);
  const horizons = opts.horizons ?? [1, 5, 21];
  const volSpan = opts.volSpan ?? DEFAULT_VOL_SPAN;
  const sigmaTarget = opts.sigmaTarget ?? DEFAULT_SIGMA_TARGET;
  for (const h of horizons) {
    if (!Number.isInteger(h) || h < 1) throw new InvalidArgumentError(`horizons: ${h} is not a positive integer`, 'horizons');
  }
  if (new Set(horizons).size !== horizons.length) throw new InvalidArgumentError('horizons: duplicates', 'horizons');
  if (!(volSpan >= 1)) throw new InvalidArgumentError(`volSpan must be ≥ 1, got ${volSpan}`, 'volSpan');
  if (!(sigmaTarget > 0 && Number.isFinite(sigmaTarget))) throw new InvalidArgumentError(`sigmaTarget must be positive, got ${sigmaTarget}`, 'sigmaTarget');

  const S = panel.symbols.length;
  const D = panel.dates.length;
  const next = new Float32Array(S * D);
  const scaled = new Float32Array(S * D);
  const sigma = new Float32Array(S * D);
  const leverage = new Float32Array(S * D);
  const forward = horizons.map((horizon) => ({ horizon, values: new Float32Array(S * D) }));
  const ret = new Float64Array(D);
  const sig = new Float64Array(D);
  const scratch = new Scratch(D);
  const alpha = spanAlpha(volSpan);
  for (let s = 0; s < S; s++) {
    const base = s * D;
    const p = panel.close.subarray(base, base + D);
    ret[0] = Number.NaN;
    for (let t = 1; t < D; t++) ret[t] = p[t]! / p[t - 1]! - 1;
    ewmaStd(ret, alpha, undefined, sig, scratch);
    for (let t = 0; t < D; t++) {
      const r1 = t + 1 < D ? p[t + 1]! / p[t]! - 1 : Number.NaN;
      const lev = volatilityLeverage(sig[t]!, sigmaTarget);
      next[base + t] = r1;
      sigma[base + t] = sig[t]!;
      leverage[base + t] = lev;
      scaled[base + t] = lev * r1;
    }
    for (const f of forward) {
      for (let t = 0; t < D; t++) f.values[base + t] = t + f.horizon < D ? p[t + f.horizon]! / p[t]! - 1 : Number.NaN;
    }
  }
  return {
    symbols: panel.symbols.slice(),
    dates: panel.dates.slice(),
    nextDayReturn: next,
    scaledNextDayReturn: scaled,
    sigma,
    leverage,
    forward,
    horizons: { nextDayReturn: 1, scaledNextDayReturn: 1, forward: horizons.slice() },
    volSpan,
    sigmaTarget,
  };
}
