/**
 * Bulk rank statistics between rankings (e.g. feature-importance snapshots), computed natively.
 *
 * Input: m rankings over n features as one row-major Float32Array/Float64Array (or an array of rows),
 * NaN (or null in row arrays) marking a feature absent from a ranking. Each pair of rows is compared over
 * the features present in both, exactly as scipy would on that subset. Matrices are m×m, row-major,
 * symmetric Float64Arrays; a pair with fewer than 2 common features, or a constant side, is NaN.
 *
 * Cost (n features, m rankings): Kendall O(m·n log n) to rank, then O(m²·n²/64) bit operations (n up to a
 * few thousand) or O(m²·n log n) (larger n), over all cores; Spearman one O(m²·n) GEMM; weighted tau
 * O(m²·n log n); top-k Jaccard O(m²·n/64).
 */
import { InvalidArgumentError, ShapeError, DTypeError } from '../errors.js';
import type { FloatArray, RankDeviceName, RankStatisticName } from '../native/addon-types.js';
import { loadAddon } from '../native/loader.js';
import { requireUnshared } from '../native/unshared.js';

export interface RankingMatrix {
  /** Row-major m×n values; NaN = feature absent from that ranking. */
  data: FloatArray;
  rows: number;
  cols: number;
}

export type RankingsInput = RankingMatrix | ReadonlyArray<ArrayLike<number | null | undefined>>;

export interface RankMatrixOptions {
  /** 'cpu' (default), 'cuda' (Kendall only; typed error without a GPU) or 'auto' (GPU when it pays). */
  device?: RankDeviceName;
}

export type Ranking = FloatArray | ReadonlyArray<number | null | undefined>;

function isMatrix(x: RankingsInput): x is RankingMatrix {
  return typeof x === 'object' && x !== null && 'data' in x && 'rows' in x && 'cols' in x;
}

/** Packs the input as a row-major typed array without copying when it already is one. */
export function toRankingMatrix(input: RankingsInput): RankingMatrix {
  if (isMatrix(input)) {
    if (!(input.data instanceof Float32Array || input.data instanceof Float64Array)) {
      throw new DTypeError('data: must be a Float32Array or Float64Array', 'data');
    }
    requireUnshared(input.data, 'data');
    return input;
  }
  if (!Array.isArray(input)) throw new InvalidArgumentError('rankings: expected { data, rows, cols } or an array of rows', 'rankings');
  const rows = input.length;
  const cols = rows > 0 ? input[0]!.length : 0;
  const data = new Float64Array(rows * cols);
  input.forEach((row, r) => {
    if (row.length !== cols) throw new ShapeError(`rankings: row ${r} has ${row.length} values, row 0 has ${cols}`, 'rankings');
    if (!Array.isArray(row) && !(row instanceof Float32Array || row instanceof Float64Array)) {
      throw new DTypeError(`rankings: row ${r} must be an array of numbers`, 'rankings');
    }
    for (let c = 0; c < cols; c++) {
      const v: unknown = row[c];
      if (v !== null && v !== undefined && typeof v !== 'number') {
        throw new DTypeError(`rankings: row ${r}, feature ${c} must be a number (or null for absent), got ${typeof v}`, 'rankings');
      }
      data[r * cols + c] = v === null || v === undefined ? Number.NaN : (v as number);
    }
  });
  return { data, rows, cols };
}

function toFloatArray(x: Ranking, name: string): FloatArray {
  if (x instanceof Float32Array || x instanceof Float64Array) return requireUnshared(x, name);
  if (!Array.isArray(x)) throw new DTypeError(`${name}: must be an array of numbers or a Float32Array/Float64Array`, name);
  return Float64Array.from(x, (v) => {
    if (v === null || v === undefined) return Number.NaN;
    if (typeof v !== 'number') throw new DTypeError(`${name}: must contain numbers (or null for absent), got ${typeof v}`, name);
    return v;
  });
}

function checkK(k: number, cols: number): void {
  if (!Number.isInteger(k) || k < 1 || k > cols) {
    throw new InvalidArgumentError(`k: must be an integer between 1 and the number of features (${cols}), got ${k}`, 'k');
  }
}

function matrixAsync(input: RankingsInput, stat: RankStatisticName, k: number | undefined, opts?: RankMatrixOptions) {
  const m = toRankingMatrix(input);
  return loadAddon().rankMatrix(m.data, m.rows, m.cols, stat, k, opts?.device ?? 'cpu');
}

function matrixSync(input: RankingsInput, stat: RankStatisticName, k: number | undefined, opts?: RankMatrixOptions) {
  const m = toRankingMatrix(input);
  return loadAddon().rankMatrixSync(m.data, m.rows, m.cols, stat, k, opts?.device ?? 'cpu');
}

/** Kendall tau-b between every pair of rankings (scipy.stats.kendalltau). Off the JS thread. */
export function kendallTauMatrix(input: RankingsInput, opts?: RankMatrixOptions): Promise<Float64Array> {
  return matrixAsync(input, 'kendall', undefined, opts);
}
/** Synchronous form of {@link kendallTauMatrix}: blocks the event loop, meant for small inputs. */
export function kendallTauMatrixSync(input: RankingsInput, opts?: RankMatrixOptions): Float64Array {
  return matrixSync(input, 'kendall', undefined, opts);
}

/**
 * Weighted tau (scipy.stats.weightedtau defaults: additive hyperbolic weigher 1/(r+1), rank=True): like
 * Kendall, but disagreements among the top-ranked features weigh most, which is what matters for importances.
 */
export function weightedTauMatrix(input: RankingsInput, opts?: RankMatrixOptions): Promise<Float64Array> {
  return matrixAsync(input, 'weighted_tau', undefined, opts);
}
export function weightedTauMatrixSync(input: RankingsInput, opts?: RankMatrixOptions): Float64Array {
  return matrixSync(input, 'weighted_tau', undefined, opts);
}

/** Spearman's rho between every pair of rankings (scipy.stats.spearmanr). */
export function spearmanMatrix(input: RankingsInput, opts?: RankMatrixOptions): Promise<Float64Array> {
  return matrixAsync(input, 'spearman', undefined, opts);
}
export function spearmanMatrixSync(input: RankingsInput, opts?: RankMatrixOptions): Float64Array {
  return matrixSync(input, 'spearman', undefined, opts);
}

/**
 * Jaccard overlap of the top-k features (by descending value) of every pair. Ties at the k-th place go to
 * the lower feature index, so the sets are deterministic; with fewer than k common features, all of them.
 */
export function topKJaccardMatrix(input: RankingsInput, k: number, opts?: RankMatrixOptions): Promise<Float64Array> {
  const m = toRankingMatrix(input);
  checkK(k, m.cols);
  return matrixAsync(m, 'topk_jaccard', k, opts);
}
export function topKJaccardMatrixSync(input: RankingsInput, k: number, opts?: RankMatrixOptions): Float64Array {
  const m = toRankingMatrix(input);
  checkK(k, m.cols);
  return matrixSync(m, 'topk_jaccard', k, opts);
}

/**
 * Rank-biased overlap (Webber, Moffat & Zobel 2010; extrapolated, their eq. 32 for rankings of different
 * lengths) between every pair of rankings: each row's present features by decreasing value, ties to the
 * lower feature index. `p` in (0, 1) sets how top-heavy it is (the expected evaluation depth is 1/(1−p)).
 * O(n) per pair; all m²/2 pairs over every core, off the JS thread.
 */
export function rboMatrix(input: RankingsInput, p: number): Promise<Float64Array> {
  if (!(typeof p === 'number' && p > 0 && p < 1)) return Promise.reject(new InvalidArgumentError(`p: must be in (0, 1), got ${p}`, 'p'));
  const m = toRankingMatrix(input);
  return loadAddon().rboMatrix(m.data, m.rows, m.cols, p);
}

/**
 * The statistic for selected pairs of rows only (`pairs` = flat (row, row) indices): e.g. a sample of the
 * m²/2 pairs of a large group, where the full matrix would cost more than needed.
 */
export function rankPairs(
  input: RankingsInput,
  statistic: RankStatisticName,
  pairs: Int32Array,
  opts: { k?: number } = {},
): Promise<Float64Array> {
  const m = toRankingMatrix(input);
  if (statistic === 'topk_jaccard') checkK(opts.k ?? 0, m.cols);
  return loadAddon().rankPairs(m.data, m.rows, m.cols, statistic, opts.k, 'cpu', pairs);
}

function pair(a: Ranking, b: Ranking, stat: RankStatisticName, k?: number): number {
  return loadAddon().rankPair(toFloatArray(a, 'a'), toFloatArray(b, 'b'), stat, k);
}

/** Kendall tau-b of two rankings over their common features. */
export function kendallTau(a: Ranking, b: Ranking): number {
  return pair(a, b, 'kendall');
}
/** Weighted tau (scipy defaults) of two rankings over their common features. */
export function weightedTau(a: Ranking, b: Ranking): number {
  return pair(a, b, 'weighted_tau');
}
/** Spearman's rho of two rankings over their common features. */
export function spearman(a: Ranking, b: Ranking): number {
  return pair(a, b, 'spearman');
}
/** Jaccard overlap of the top-k sets of two rankings over their common features. */
export function topKJaccard(a: Ranking, b: Ranking, k: number): number {
  const fa = toFloatArray(a, 'a');
  checkK(k, fa.length);
  return pair(fa, b, 'topk_jaccard', k);
}

/** Which exact Kendall algorithm the native core picks for m rankings of n features. */
export function kendallAlgorithmFor(m: number, n: number): 'bitset' | 'fenwick' {
  return loadAddon().kendallAlgorithmFor(m, n);
}

/** Forces one Kendall algorithm process-wide (tests and benchmarks); 'auto' restores the size-based choice. */
export function setKendallAlgorithm(algorithm: 'auto' | 'bitset' | 'fenwick'): void {
  loadAddon().setKendallAlgorithm(algorithm);
}
