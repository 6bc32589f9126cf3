/**
 * How much of a fold's validation Sharpe is noise: the standard error that early stopping should weigh
 * differences between epochs against.
 *
 * The validation loss is the Sharpe of the pooled (asset, day) strategy returns of the validation range.
 * For N independent observations, Lo (2002) gives SE(SR_daily) = √((1 + SR_daily²/2) / N); assets that move
 * together are fewer independent observations, so N is discounted by the design effect of the mean
 * pairwise correlation ρ̄ of the assets' labels over the range (Kish): N_eff = N / (1 + (A − 1)·max(ρ̄, 0)).
 * The annualised SE is √252 times that. Validation returns overlap across windows and positions flip signs,
 * so this is an approximation; it is the right order of magnitude, which is what choosing epochs needs.
 */
import { SQRT_252 } from '../data/annualization.js';
import type { DayRange } from './folds.js';
import type { TrainingLabels } from './walk-forward-plan.js';

/** Above this annualised SE a validation range cannot tell apart epochs whose Sharpes differ by less than 1. */
export const VALIDATION_SE_LIMIT = 0.5;

export interface ValidationNoise {
  days: number;
  assets: number;
  /** Finite (asset, day) labels in the range. */
  observations: number;
  /** Mean pairwise correlation of the assets' labels over the range. */
  meanCorrelation: number;
  effectiveObservations: number;
  /** Annualised standard error of the validation Sharpe, at the fold's best validation Sharpe. */
  sharpeStandardError: number;
  /** sharpeStandardError ≤ VALIDATION_SE_LIMIT. */
  reliable: boolean;
}

export function validationNoise(
  labels: Pick<TrainingLabels, 'target'>,
  assets: number,
  days: number,
  range: Pick<DayRange, 'start' | 'end'>,
  sharpe = 0,
): ValidationNoise {
  const z = standardised(labels.target, assets, days, range);
  const rho = meanCorrelation(z, assets, range.end - range.start + 1);
  const observations = z.reduce((n, v) => n + (Number.isNaN(v) ? 0 : 1), 0);
  const effectiveObservations = observations / (1 + (assets - 1) * Math.max(rho, 0));
  const daily = sharpe / SQRT_252;
  const se = effectiveObservations > 0 ? SQRT_252 * Math.sqrt((1 + (daily * daily) / 2) / effectiveObservations) : Number.POSITIVE_INFINITY;
  return {
    days: range.end - range.start + 1,
    assets,
    observations,
    meanCorrelation: rho,
    effectiveObservations,
    sharpeStandardError: se,
    reliable: se <= VALIDATION_SE_LIMIT,
  };
}

/** [assets, range days] labels as z-scores per asset (NaN where missing). */
function standardised(target: Float32Array, A: number, D: number, range: Pick<DayRange, 'start' | 'end'>): Float64Array {
  const n = range.end - range.start + 1;
  const z = new Float64Array(A * n).fill(Number.NaN);
  for (let a = 0; a < A; a++) {
    let s = 0;
    let s2 = 0;
    let k = 0;
    for (let d = range.start; d <= range.end; d++) {
      const y = target[a * D + d]!;
      if (!Number.isFinite(y)) continue;
      s += y;
      s2 += y * y;
      k++;
    }
    const m = k ? s / k : 0;
    const sd = k > 1 ? Math.sqrt(Math.max(s2 / k - m * m, 0)) : 0;
    if (!(sd > 0)) continue;
    for (let d = range.start; d <= range.end; d++) {
      const y = target[a * D + d]!;
      if (Number.isFinite(y)) z[a * n + d - range.start] = (y - m) / sd;
    }
  }
  return z;
}

/** ρ̄ from Var(Σ_a z_a) = A + A(A − 1)ρ̄ over the days every asset has a label. */
function meanCorrelation(z: Float64Array, A: number, n: number): number {
  if (A < 2) return 0;
  let s = 0;
  let s2 = 0;
  let k = 0;
  for (let d = 0; d < n; d++) {
    let sum = 0;
    let complete = true;
    for (let a = 0; a < A && complete; a++) {
      const v = z[a * n + d]!;
      if (Number.isNaN(v)) complete = false;
      else sum += v;
    }
    if (!complete) continue;
    s += sum;
    s2 += sum * sum;
    k++;
  }
  if (k < 2) return 0;
  const variance = s2 / k - (s / k) ** 2;
  return Math.min(1, Math.max(-1 / (A - 1), (variance / A - 1) / (A - 1)));
}
