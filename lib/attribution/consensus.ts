/**
 * Agreement between attribution methods: the rank correlation of their per-feature importances, every pair
 * of methods, on the native rank kernels. Methods that agree give a ranking one can act on; methods that
 * disagree say the ranking depends on how it was measured.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { finiteSummary, upperTriangle } from '../rank/pairwise-summary.js';
import { kendallTauMatrix, spearmanMatrix } from '../rank/rank-correlation.js';
import type { Attribution } from './types.js';

export interface ConsensusOptions {
  /** Kendall's tau-b (default) or Spearman's rho. */
  statistic?: 'kendall' | 'spearman';
  /** A pair of methods "agrees" above this correlation (default 0.7). */
  agreementThreshold?: number;
}

export interface AttributionConsensus {
  methods: string[];
  statistic: 'kendall' | 'spearman';
  /** [m, m] row-major correlations of the methods' feature importances. */
  matrix: Float64Array;
  meanCorrelation: number;
  minCorrelation: number;
  /** Sample standard deviation over the pairs (0 with one pair). */
  stdCorrelation: number;
  /** Share of method pairs whose correlation exceeds the threshold. */
  agreementScore: number;
  agreementThreshold: number;
}

/** The consensus of two or more attributions of the same model and inputs (featureImportance is compared). */
export async function attributionConsensus(results: readonly Attribution[], opts: ConsensusOptions = {}): Promise<AttributionConsensus> {
  if (!Array.isArray(results) || results.length < 2) throw new InvalidArgumentError('results: needs at least two attributions', 'results');
  const statistic = opts.statistic ?? 'kendall';
  if (statistic !== 'kendall' && statistic !== 'spearman')
    throw new InvalidArgumentError(`statistic: must be 'kendall' or 'spearman', got ${String(statistic)}`, 'statistic');
  const threshold = opts.agreementThreshold ?? 0.7;
  if (!(threshold >= -1 && threshold <= 1))
    throw new InvalidArgumentError(`agreementThreshold: must lie in [-1, 1], got ${threshold}`, 'agreementThreshold');
  const F = results[0]!.featureImportance.length;
  const m = results.length;
  const data = new Float64Array(m * F);
  results.forEach((r, i) => {
    if (r.featureImportance.length !== F)
      throw new ShapeError(`results[${i}]: ${r.featureImportance.length} features, the first has ${F}`, 'results');
    data.set(r.featureImportance, i * F);
  });
  const input = { data, rows: m, cols: F };
  const matrix = statistic === 'kendall' ? await kendallTauMatrix(input) : await spearmanMatrix(input);
  const pairs = upperTriangle(matrix, m);
  const s = finiteSummary(pairs);
  const agreeing = Array.from(pairs).filter((v) => v > threshold).length;
  return {
    methods: results.map((r) => r.method),
    statistic,
    matrix,
    meanCorrelation: s.mean,
    minCorrelation: s.min,
    stdCorrelation: s.sd,
    agreementScore: agreeing / pairs.length,
    agreementThreshold: threshold,
  };
}
