/**
 * Tier 1, before any training, on one fold's training rows only:
 *  1. coverage: a feature with fewer finite values than `minCoverage` of the rows is dropped;
 *  2. correlation: the survivors are visited by decreasing variance (ties: catalogue order) and a feature
 *     is dropped when |r| > `correlationThreshold` with one already kept (over ≥ `correlationMinPeriods`
 *     common rows). So of every pair above the threshold the higher-variance feature stays, no two kept
 *     features exceed it, and a chain a ~ b ~ c with a ≁ c keeps a and c.
 * The correlation matrix is one native call over every feature (pairwise-complete GEMMs).
 */
import type { FeaturePanel } from '../data/feature-builder.js';
import type { FeatureSelectionConfig } from './config.js';
import { pairwiseCorrelation, type CorrelationMatrix } from './statistics.js';
import { trainingRows } from './training-rows.js';

export type DropReason =
  | { tier: 'coverage'; coverage: number; minCoverage: number }
  | { tier: 'correlation'; partner: string; r: number; variance: number; partnerVariance: number; threshold: number }
  | { tier: 'vsn'; meanWeight: number; selectedShare: number; weightThreshold: number; minShare: number }
  | { tier: 'cap'; rank: number; finalMaxFeatures: number };

export interface DroppedFeature {
  name: string;
  group: string;
  reason: DropReason;
}

export interface PrefilterResult {
  /** Training range the rows came from (window end days, inclusive). */
  trainStart: string;
  trainEnd: string;
  rows: number;
  /** Features entering Tier 1, and those kept, in catalogue order. */
  candidates: number;
  kept: string[];
  dropped: DroppedFeature[];
  /** Share of finite values per feature (every feature). */
  coverage: Record<string, number>;
  seconds: number;
}

export interface PrefilterRange {
  start: number;
  end: number;
  horizon: number;
}

export async function prefilterFold(
  panel: FeaturePanel,
  target: Float32Array,
  range: PrefilterRange,
  config: FeatureSelectionConfig,
): Promise<PrefilterResult> {
  const t0 = performance.now();
  const rows = trainingRows(panel, target, range);
  const corr = await pairwiseCorrelation(rows, { method: config.correlationMethod, minPeriods: 1 });
  const coverage: Record<string, number> = {};
  const dropped: DroppedFeature[] = [];
  const survivors: number[] = [];
  panel.names.forEach((name, i) => {
    const cov = rows.rows > 0 ? corr.finite[i]! / rows.rows : 0;
    coverage[name] = cov;
    if (cov < config.minCoverage) {
      dropped.push({ name, group: panel.groups[i]!, reason: { tier: 'coverage', coverage: cov, minCoverage: config.minCoverage } });
    } else survivors.push(i);
  });
  const keptIdx = correlationFilter(corr, survivors, config, panel, dropped);
  return {
    trainStart: panel.dates[range.start]!,
    trainEnd: panel.dates[range.end]!,
    rows: rows.rows,
    candidates: panel.names.length,
    kept: keptIdx.sort((a, b) => a - b).map((i) => panel.names[i]!),
    dropped,
    coverage,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Greedy by decreasing variance; returns the kept column indices and appends the drops. */
function correlationFilter(
  corr: CorrelationMatrix,
  survivors: readonly number[],
  config: FeatureSelectionConfig,
  panel: FeaturePanel,
  dropped: DroppedFeature[],
): number[] {
  const C = corr.cols;
  const variance = (i: number) => (Number.isFinite(corr.variance[i]!) ? corr.variance[i]! : -Infinity);
  const order = [...survivors].sort((a, b) => variance(b) - variance(a) || a - b);
  const kept: number[] = [];
  for (const i of order) {
    let partner = -1;
    let best = 0;
    for (const j of kept) {
      const r = corr.r[i * C + j]!;
      if (corr.nobs[i * C + j]! < config.correlationMinPeriods || !(Math.abs(r) > config.correlationThreshold)) continue;
      if (Math.abs(r) > Math.abs(best)) {
        best = r;
        partner = j;
      }
    }
    if (partner < 0) {
      kept.push(i);
      continue;
    }
    dropped.push({
      name: panel.names[i]!,
      group: panel.groups[i]!,
      reason: {
        tier: 'correlation',
        partner: panel.names[partner]!,
        r: best,
        variance: corr.variance[i]!,
        partnerVariance: corr.variance[partner]!,
        threshold: config.correlationThreshold,
      },
    });
  }
  return kept;
}
