/**
 * Tier 2, after the exploration pass: the VSN weights each fold's model gave its candidates, summarised
 * as a FeatureStabilityReport (seed 004's StabilityReport).
 *
 * A feature is *selected* in fold k when its VSN weight there exceeds θ_k = max(vsnWeightThreshold,
 * vsnUniformMultiple / F_k), F_k the fold's candidates (a feature the fold did not train on — dropped by
 * that fold's Tier 1 — has weight 0 there). Over the folds considered:
 *   meanWeight = mean of the fold weights, stabilityScore = share of folds selecting it,
 *   stable = meanWeight > mean θ and stabilityScore ≥ stabilityMinFolds,
 *   recommended = the stable features by decreasing meanWeight (ties: name), at most finalMaxFeatures.
 * Nogueira's Φ̂ (with its 95% interval) measures how alike the folds' selections are.
 */
import { nogueiraStability, type NogueiraStability } from '../stability/metrics.js';
import type { FeatureSelectionConfig } from './config.js';
import type { DroppedFeature } from './prefilter.js';

export interface FoldVsn {
  fold: number;
  /** VSN weight of each feature the fold's model trained on. */
  weights: Record<string, number>;
}

export interface GroupBreakdown {
  candidates: number;
  stable: number;
  recommended: number;
  /** The group's share of the summed mean VSN weight. */
  weightShare: number;
}

export interface FeatureStabilityReport {
  /** The exploration folds the report reads. */
  folds: number[];
  /** Every feature some fold trained on, by name. */
  candidates: string[];
  stableFeatures: string[];
  stabilityScores: Record<string, number>;
  meanVsnWeight: Record<string, number>;
  /** Weight per fold, in `folds` order (0 where the fold did not train on the feature). */
  vsnWeightPerFold: Record<string, number[]>;
  recommendedFeatures: string[];
  featureGroupBreakdown: Record<string, GroupBreakdown>;
  nogueira: NogueiraStability;
  /** θ_k per fold, and the mean θ a stable feature's mean weight must exceed. */
  weightThresholds: number[];
  meanWeightThreshold: number;
  /** Why each candidate outside the recommendation is out (tier 'vsn' or 'cap'). */
  dropped: DroppedFeature[];
}

export function vsnStability(
  folds: readonly FoldVsn[],
  groupOf: (name: string) => string,
  config: FeatureSelectionConfig,
): FeatureStabilityReport {
  const candidates = [...new Set(folds.flatMap((f) => Object.keys(f.weights)))].sort();
  const M = folds.length;
  const per: Record<string, number[]> = {};
  const mean: Record<string, number> = {};
  const score: Record<string, number> = {};
  const Z = folds.map(() => new Uint8Array(candidates.length));
  const theta = folds.map((f) =>
    Math.max(config.vsnWeightThreshold, config.vsnUniformMultiple / Math.max(1, Object.keys(f.weights).length)),
  );
  const meanTheta = M ? theta.reduce((a, b) => a + b, 0) / M : config.vsnWeightThreshold;
  candidates.forEach((name, c) => {
    const w = folds.map((f) => f.weights[name] ?? 0);
    per[name] = w;
    mean[name] = M ? w.reduce((a, b) => a + b, 0) / M : 0;
    w.forEach((v, m) => (Z[m]![c] = v > theta[m]! ? 1 : 0));
    score[name] = M ? Z.reduce((a, z) => a + z[c]!, 0) / M : 0;
  });
  const stable = candidates.filter((n) => mean[n]! > meanTheta && score[n]! >= config.stabilityMinFolds);
  const ranked = [...stable].sort((a, b) => mean[b]! - mean[a]! || (a < b ? -1 : 1));
  const recommended = ranked.slice(0, config.finalMaxFeatures);
  const dropped = droppedByTier2(candidates, stable, ranked, recommended, mean, score, groupOf, config, meanTheta);
  return {
    folds: folds.map((f) => f.fold),
    candidates,
    stableFeatures: ranked,
    stabilityScores: score,
    meanVsnWeight: mean,
    vsnWeightPerFold: per,
    recommendedFeatures: recommended,
    featureGroupBreakdown: groupBreakdown(candidates, stable, recommended, mean, groupOf),
    nogueira: nogueiraStability(Z),
    weightThresholds: theta,
    meanWeightThreshold: meanTheta,
    dropped,
  };
}

function droppedByTier2(
  candidates: readonly string[],
  stable: readonly string[],
  ranked: readonly string[],
  recommended: readonly string[],
  mean: Record<string, number>,
  score: Record<string, number>,
  groupOf: (name: string) => string,
  config: FeatureSelectionConfig,
  weightThreshold: number,
): DroppedFeature[] {
  const isStable = new Set(stable);
  const isRecommended = new Set(recommended);
  const out: DroppedFeature[] = [];
  for (const name of candidates) {
    if (isRecommended.has(name)) continue;
    const reason: DroppedFeature['reason'] = isStable.has(name)
      ? { tier: 'cap', rank: ranked.indexOf(name) + 1, finalMaxFeatures: config.finalMaxFeatures }
      : {
          tier: 'vsn',
          meanWeight: mean[name]!,
          selectedShare: score[name]!,
          weightThreshold,
          minShare: config.stabilityMinFolds,
        };
    out.push({ name, group: groupOf(name), reason });
  }
  return out;
}

function groupBreakdown(
  candidates: readonly string[],
  stable: readonly string[],
  recommended: readonly string[],
  mean: Record<string, number>,
  groupOf: (name: string) => string,
): Record<string, GroupBreakdown> {
  const out: Record<string, GroupBreakdown> = {};
  const total = candidates.reduce((a, n) => a + mean[n]!, 0);
  const row = (g: string) => (out[g] ??= { candidates: 0, stable: 0, recommended: 0, weightShare: 0 });
  for (const n of candidates) {
    const r = row(groupOf(n));
    r.candidates++;
    r.weightShare += total > 0 ? mean[n]! / total : 0;
  }
  for (const n of stable) row(groupOf(n)).stable++;
  for (const n of recommended) row(groupOf(n)).recommended++;
  return out;
}
