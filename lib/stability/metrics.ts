/**
 * Stability metrics that are not rank correlations (those run natively, lib/rank): rank-biased overlap,
 * top-k selection, selection frequency and the Nogueira–Sechidis–Brown stability estimator.
 */

/**
 * Extrapolated rank-biased overlap of two rankings (most important first), Webber, Moffat & Zobel (2010),
 * "A similarity measure for indefinite rankings", eq. 32, evaluated to depth k = min(|S|, |T|):
 *   RBO_ext = (X_k / k) p^k + ((1 − p) / p) Σ_{d=1..k} (X_d / d) p^d,   X_d = |S_{1:d} ∩ T_{1:d}|.
 * 1 for identical rankings, 0 for disjoint ones; p sets how top-heavy it is (expected depth 1 / (1 − p)).
 */
export function rankBiasedOverlap(s: readonly string[], t: readonly string[], p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  const ids = new Map<string, number>();
  const index = (list: readonly string[]) => Int32Array.from(list, (f) => ids.get(f) ?? (ids.set(f, ids.size), ids.size - 1));
  const a = index(s);
  const b = index(t);
  const position = (list: Int32Array) => {
    const pos = new Int32Array(ids.size).fill(0x7fffffff);
    list.forEach((c, r) => (pos[c] = r));
    return pos;
  };
  return rankBiasedOverlapIndexed(a, b, position(a), position(b), p);
}

/**
 * The same RBO for rankings given as column indices (0 … n−1) with `positionB[c]` = rank of column c in B
 * (or a large value if absent), O(k) with no hashing: what group analysis runs over thousands of pairs.
 */
export function rankBiasedOverlapIndexed(a: Int32Array, b: Int32Array, positionA: Int32Array, positionB: Int32Array, p: number): number {
  const k = Math.min(a.length, b.length);
  if (k === 0) return Number.NaN;
  let x = 0;
  let sum = 0;
  let pd = 1;
  for (let d = 1; d <= k; d++) {
    const ca = a[d - 1]!;
    const cb = b[d - 1]!;
    if (ca === cb) x++;
    else {
      if (positionB[ca]! < d) x++;
      if (positionA[cb]! < d) x++;
    }
    pd *= p;
    sum += (x / d) * pd;
  }
  return (x / k) * pd + ((1 - p) / p) * sum;
}

/** p so that the expected evaluation depth 1 / (1 − p) equals K: the top-K carries the weight. */
export function rboPForTopK(k: number): number {
  return k <= 1 ? 0.5 : 1 - 1 / k;
}

/** The k most important features of a ranking (already sorted, most important first). */
export function topK(features: readonly string[], k: number): string[] {
  return features.slice(0, k);
}

/** Jaccard overlap |A ∩ B| / |A ∪ B| of two sets (1 for two empty sets). */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 1 : inter / union;
}

/** Fraction of runs whose top-k contains each feature of the universe. */
export function selectionFrequency(selections: ReadonlyArray<ReadonlySet<string>>, universe: readonly string[]): Map<string, number> {
  const freq = new Map<string, number>(universe.map((f) => [f, 0]));
  for (const s of selections) for (const f of s) freq.set(f, (freq.get(f) ?? 0) + 1);
  for (const [f, c] of freq) freq.set(f, selections.length ? c / selections.length : Number.NaN);
  return freq;
}

export interface NogueiraStability {
  /** Φ̂ in [−1/(M−1), 1]; 1 = the same features every time, ~0 = as random selections of the same sizes. */
  value: number;
  /** Estimated variance of Φ̂ and the 95% normal confidence interval. */
  variance: number;
  ci95: [number, number];
  runs: number;
  features: number;
  /** Mean selected-subset size k̄. */
  meanSize: number;
  /** Why the estimator is undefined (NaN value), when it is. */
  undefinedBecause?: string;
}

/**
 * Nogueira, Sechidis & Brown (2018), "On the Stability of Feature Selection Algorithms", JMLR 18(174):
 *   Φ̂ = 1 − [ (1/d) Σ_f s_f² ] / [ (k̄/d)(1 − k̄/d) ],   s_f² = M/(M−1) p̂_f (1 − p̂_f),
 * with M selections (rows of Z ∈ {0,1}^{M×d}), p̂_f the selection frequency of feature f and k̄ the mean
 * subset size; its variance from the paper's asymptotic result,
 *   v(Φ̂) = (4/M²) Σ_i (φ_i − φ̄)²,  φ_i = [ (1/d) Σ_f Z_if p̂_f − k_i k̄/d² + (Φ̂/2)(2 k_i k̄/d² − k_i/d − k̄/d + 1) ] / [ (k̄/d)(1 − k̄/d) ],
 * and the 95% interval Φ̂ ± 1.96 √v. Undefined (NaN, with the reason) for fewer than two runs, or when every
 * run selects nothing or everything (k̄ = 0 or d).
 */
export function nogueiraStability(Z: ReadonlyArray<Uint8Array>): NogueiraStability {
  const M = Z.length;
  const d = M ? Z[0]!.length : 0;
  const base = { runs: M, features: d };
  const nan = (why: string): NogueiraStability => ({ value: Number.NaN, variance: Number.NaN, ci95: [Number.NaN, Number.NaN], meanSize: Number.NaN, ...base, undefinedBecause: why });
  if (M < 2) return nan('fewer than two runs');
  if (d === 0) return nan('no features');
  const p = new Float64Array(d);
  const k = new Float64Array(M);
  Z.forEach((row, i) => {
    if (row.length !== d) throw new RangeError('every selection must have the same number of features');
    for (let f = 0; f < d; f++) {
      p[f] = p[f]! + row[f]!;
      k[i] = k[i]! + row[f]!;
    }
  });
  for (let f = 0; f < d; f++) p[f] = p[f]! / M;
  const kbar = k.reduce((a, b) => a + b, 0) / M;
  const denom = (kbar / d) * (1 - kbar / d);
  if (denom <= 0) return { ...nan(kbar === 0 ? 'no run selects any feature' : 'every run selects every feature'), meanSize: kbar };
  let s2 = 0;
  for (let f = 0; f < d; f++) s2 += p[f]! * (1 - p[f]!);
  const phi = 1 - ((M / (M - 1)) * (s2 / d)) / denom;
  const phis = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    let zp = 0;
    for (let f = 0; f < d; f++) zp += Z[i]![f]! * p[f]!;
    phis[i] = (zp / d - (k[i]! * kbar) / (d * d) + (phi / 2) * ((2 * k[i]! * kbar) / (d * d) - k[i]! / d - kbar / d + 1)) / denom;
  }
  const mean = phis.reduce((a, b) => a + b, 0) / M;
  const variance = (4 / (M * M)) * phis.reduce((a, b) => a + (b - mean) ** 2, 0);
  const half = 1.959963984540054 * Math.sqrt(variance);
  return { value: phi, variance, ci95: [phi - half, phi + half], meanSize: kbar, ...base };
}
