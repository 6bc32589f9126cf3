/**
 * Summary statistics of one importance vector (mean |attribution| per feature), defined so they mean the
 * same whatever the number of features (docs/attribution.md, "Attribution analysis"):
 *
 *   score_i   = I_i / max_j I_j                      normalised scores in [0, 1]; the top feature scores 1
 *   share_i   = I_i / Σ_j I_j                        each feature's share of the total importance
 *   sparsity  = |{i : score_i < τ}| / F              τ = 0.1: features at least ten times below the top
 *   HHI       = Σ_i share_i²                         Herfindahl–Hirschman index, in [1/F, 1]
 *   concentration = (HHI − 1/F) / (1 − 1/F)          normalised to [0, 1]: 0 uniform, 1 a single feature
 *
 * The HHI rather than a Gini coefficient: it weights the large shares (the features a decision rests on),
 * is insensitive to how the long tail of small shares is spread, and 1/HHI reads as an effective number of
 * features.
 */
import { InvalidArgumentError } from '../../errors.js';

export const DEFAULT_SPARSITY_THRESHOLD = 0.1;

function requireImportance(importance: ArrayLike<number>): void {
  if (importance.length === 0) throw new InvalidArgumentError('importance: needs at least one feature', 'importance');
  for (let i = 0; i < importance.length; i++) {
    const v = importance[i]!;
    if (!Number.isFinite(v) || v < 0)
      throw new InvalidArgumentError(`importance: values must be finite and >= 0, got ${v} at ${i}`, 'importance');
  }
}

/** score_i = I_i / max I (all zeros when every importance is 0). */
export function normalizedScores(importance: ArrayLike<number>): Float64Array {
  requireImportance(importance);
  let top = 0;
  for (let i = 0; i < importance.length; i++) top = Math.max(top, importance[i]!);
  return Float64Array.from(importance, (v) => (top > 0 ? v / top : 0));
}

/** share_i = I_i / Σ I (uniform when every importance is 0). */
export function importanceShares(importance: ArrayLike<number>): Float64Array {
  requireImportance(importance);
  let total = 0;
  for (let i = 0; i < importance.length; i++) total += importance[i]!;
  const F = importance.length;
  return Float64Array.from(importance, (v) => (total > 0 ? v / total : 1 / F));
}

/** The share of features whose normalised score is below `threshold`. */
export function sparsity(importance: ArrayLike<number>, threshold = DEFAULT_SPARSITY_THRESHOLD): number {
  if (!(threshold > 0 && threshold <= 1)) throw new InvalidArgumentError(`threshold: must be in (0, 1], got ${threshold}`, 'threshold');
  const s = normalizedScores(importance);
  return s.reduce((n, v) => n + (v < threshold ? 1 : 0), 0) / s.length;
}

/** The normalised Herfindahl–Hirschman index of the importance shares (0 with a single feature). */
export function concentration(importance: ArrayLike<number>): number {
  const p = importanceShares(importance);
  const F = p.length;
  if (F === 1) return 0;
  const hhi = p.reduce((s, v) => s + v * v, 0);
  return Math.min(1, Math.max(0, (hhi - 1 / F) / (1 - 1 / F)));
}
