/**
 * The selector's two heavy statistics, computed natively off the JS thread over a design matrix
 * `{ data, rows, cols }` (row-major; a row is an observation such as an asset on a day, a column a
 * feature; NaN or ±Inf marks a missing value).
 *
 * - `pairwiseCorrelation`: Pearson (or Spearman) correlation of every pair of columns over the rows where
 *   both are finite, as pandas' `DataFrame.corr(min_periods=…)`. Four accumulated GEMMs over row blocks of
 *   the centred data (one when nothing is missing): O(rows · cols²) flops, O(block · cols + cols²) memory.
 *   Spearman ranks each column over its own finite values (average ranks for ties) and correlates the
 *   ranks pairwise-complete; with no missing values that is exactly pandas' and scipy's Spearman.
 * - `mutualInfoRegression`: scikit-learn's `mutual_info_regression` (KSG, k neighbours), its scaling
 *   included, one column per core: O(cols · rows log rows). See docs/feature-selection.md for the jitter rule.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import type { FloatArray } from '../native/addon-types.js';
import { loadAddon } from '../native/loader.js';
import { requireUnshared } from '../native/unshared.js';

export interface DesignMatrix {
  data: FloatArray;
  rows: number;
  cols: number;
}

export interface CorrelationOptions {
  method?: 'pearson' | 'spearman';
  /** Pairs with fewer common finite rows get NaN (pandas' min_periods; default 1). */
  minPeriods?: number;
}

export interface CorrelationMatrix {
  cols: number;
  /** cols × cols, row-major, symmetric; NaN where undefined (too few rows, a constant side). */
  r: Float64Array;
  /** cols × cols: the rows where both features are finite. */
  nobs: Float64Array;
  /** Per column, over its finite rows. */
  mean: Float64Array;
  /** Per column, ddof = 1 over its finite rows (NaN below 2 rows). */
  variance: Float64Array;
  /** Per column: how many rows are finite. */
  finite: Float64Array;
}

export interface MutualInfoOptions {
  /** k of the KSG estimator (scikit-learn's n_neighbors; default 3). */
  nNeighbors?: number;
  /** scikit-learn's tie-breaking noise, 1e-10 · max(1, mean|v|) · N(0, 1) on the scaled values (default true). */
  jitter?: boolean;
  /** Seed of the jitter (default 0): same seed, same result, whatever the thread count. */
  seed?: number;
}

function checkMatrix(m: DesignMatrix, name: string): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 0) {
    throw new ShapeError(`${name}: rows and cols must be non-negative integers`, name);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new ShapeError(`${name}: has ${m.data.length} values but rows × cols = ${m.rows} × ${m.cols}`, name);
  }
  requireUnshared(m.data, name);
}

export async function pairwiseCorrelation(x: DesignMatrix, opts: CorrelationOptions = {}): Promise<CorrelationMatrix> {
  checkMatrix(x, 'values');
  const method = opts.method ?? 'pearson';
  const minPeriods = opts.minPeriods ?? 1;
  if (!Number.isInteger(minPeriods) || minPeriods < 1) throw new InvalidArgumentError('minPeriods: must be an integer ≥ 1', 'minPeriods');
  const res = await loadAddon().pairwiseCorrelation(x.data, x.rows, x.cols, method, minPeriods);
  return { cols: x.cols, ...res };
}

export async function mutualInfoRegression(x: DesignMatrix, y: ArrayLike<number>, opts: MutualInfoOptions = {}): Promise<Float64Array> {
  checkMatrix(x, 'values');
  if (y.length !== x.rows) throw new ShapeError(`y: has ${y.length} values but the matrix has ${x.rows} rows`, 'y');
  const k = opts.nNeighbors ?? 3;
  if (!Number.isInteger(k) || k < 1 || k > 64) throw new InvalidArgumentError('nNeighbors: must be an integer in [1, 64]', 'nNeighbors');
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidArgumentError('seed: must be a non-negative integer', 'seed');
  const yd = y instanceof Float64Array ? requireUnshared(y, 'y') : Float64Array.from(y);
  return loadAddon().mutualInfoRegression(x.data, x.rows, x.cols, yd, k, opts.jitter ?? true, seed);
}
