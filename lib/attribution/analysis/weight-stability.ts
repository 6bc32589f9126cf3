/**
 * How consistent a distribution the model produces is — the VSN weights over features, or the last step's
 * attention over the window — measured with the total-variation distance TV(p, q) = ½ Σ_i |p_i − q_i|
 * (in [0, 1]: the share of mass that would have to move):
 *
 *   acrossWindows  = 1 − mean_b TV(p_b, p̄)            within one analysis (p̄ the mean distribution)
 *   acrossAnalyses = 1 − mean_k TV(p̄_k, p̄_{k−1})      between consecutive analyses
 *
 * 1 means identical patterns; a uniform pattern against a one-hot one over n cells gives 1 − (1 − 1/n).
 */
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i]! - q[i]!);
  return 0.5 * s;
}

/** Rows of a [rows, n] distribution matrix, each renormalised to sum 1 (guards float drift). */
export function meanDistribution(rows: Float64Array[], n: number): Float64Array {
  const m = new Float64Array(n);
  for (const r of rows) for (let i = 0; i < n; i++) m[i]! += r[i]! / rows.length;
  return m;
}

/** 1 − mean TV of each row to the mean row. */
export function consistencyAcrossRows(rows: Float64Array[], n: number): number {
  if (rows.length === 0) return 1;
  const m = meanDistribution(rows, n);
  return 1 - rows.reduce((s, r) => s + totalVariation(r, m), 0) / rows.length;
}

/** 1 − mean TV between consecutive distributions; undefined with fewer than two. */
export function consistencyOverTime(means: Float64Array[]): number | undefined {
  if (means.length < 2) return undefined;
  let s = 0;
  for (let k = 1; k < means.length; k++) s += totalVariation(means[k]!, means[k - 1]!);
  return 1 - s / (means.length - 1);
}

/** VSN weights [B, T, F] → per-window distributions over features (mean over steps), [B][F]. */
export function vsnDistributions(w: Float32Array, batch: number, steps: number, features: number): Float64Array[] {
  return Array.from({ length: batch }, (_, b) => {
    const p = new Float64Array(features);
    for (let t = 0; t < steps; t++) for (let f = 0; f < features; f++) p[f]! += w[(b * steps + t) * features + f]! / steps;
    const total = p.reduce((s, v) => s + v, 0);
    return total > 0 ? p.map((v) => v / total) : p;
  });
}

/** Last-step attention [B, T] → per-window distributions over the window's steps. */
export function attentionDistributions(a: Float32Array, batch: number, steps: number): Float64Array[] {
  return Array.from({ length: batch }, (_, b) => {
    const p = Float64Array.from(a.subarray(b * steps, (b + 1) * steps));
    const total = p.reduce((s, v) => s + v, 0);
    return total > 0 ? p.map((v) => v / total) : p;
  });
}
