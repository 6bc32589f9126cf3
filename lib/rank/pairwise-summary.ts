/**
 * Summaries of the m×m pairwise matrices the rank statistics return (row-major, symmetric, NaN where a
 * pair has no value): each pair counted once, from the entries above the diagonal, and only the finite
 * values averaged, since NaN marks a pair without enough common features rather than a low agreement.
 */

/** Mean, minimum, count and sample standard deviation of the finite values; mean and min are NaN when none. */
export interface FiniteSummary {
  mean: number;
  min: number;
  count: number;
  /** Sample standard deviation (n − 1); 0 with fewer than two values. */
  sd: number;
}

export function finiteSummary(values: ArrayLike<number>): FiniteSummary {
  let s = 0;
  let s2 = 0;
  let n = 0;
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    s += v;
    s2 += v * v;
    n++;
    min = Math.min(min, v);
  }
  const mean = n ? s / n : Number.NaN;
  const sd = n > 1 ? Math.sqrt(Math.max(0, (s2 - n * mean * mean) / (n - 1))) : 0;
  return { mean, min: n ? min : Number.NaN, count: n, sd };
}

/** The entries above the diagonal, row by row: every pair i < j once. */
export function upperTriangle(M: ArrayLike<number>, m: number): Float64Array {
  const out = new Float64Array((m * (m - 1)) / 2);
  let k = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) out[k++] = M[i * m + j]!;
  return out;
}

/** The entries `lag` places above the diagonal, M[i][i + lag]: the pairs of rankings `lag` steps apart. */
export function superDiagonal(M: ArrayLike<number>, m: number, lag: number): Float64Array {
  const out = new Float64Array(Math.max(0, m - lag));
  for (let i = 0; i + lag < m; i++) out[i] = M[i * m + i + lag]!;
  return out;
}

/** Mean over the pairs of the finite entries above the diagonal, and how many there were (NaN and 0 when none). */
export function meanUpperTriangle(M: ArrayLike<number>, m: number): { mean: number; count: number } {
  const { mean, count } = finiteSummary(upperTriangle(M, m));
  return { mean, count };
}
