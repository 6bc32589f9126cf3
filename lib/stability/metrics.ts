/**
 * Stability metrics that are not rank correlations (those run natively, lib/rank): rank-biased overlap,
 * top-k selection, selection frequency and the Nogueira–Sechidis–Brown stability estimator. Rankings are
 * strict orders: equal importances are ordered by feature name (see snapshot.ts), the tie order of every
 * metric here and of the native top-k kernel (lower column index first, columns sorted by name).
 */

/**
 * Extrapolated rank-biased overlap of two rankings (most important first, no repeated items), Webber, Moffat
 * & Zobel (2010), "A similarity measure for indefinite rankings", ACM TOIS 28(4), section 4.2, eq. 32, with
 * S the shorter list (length s) and L the longer (length l):
 *   RBO_ext = ((1 − p)/p) [ Σ_{d=1..l} (X_d/d) p^d + Σ_{d=s+1..l} X_s (d − s)/(s d) p^d ] + [ (X_l − X_s)/l + X_s/s ] p^l,
 * X_d = |S_{1:d} ∩ L_{1:d}| (S_{1:d} = all of S once d > s). The unseen tail of S is assumed to agree with L
 * at the rate X_s/s seen at S's end; for s = l it is eq. 30, (X_k/k) p^k + ((1 − p)/p) Σ_{d≤k} (X_d/d) p^d.
 * 1 for identical rankings, 0 for disjoint ones; p sets how top-heavy it is (expected depth 1/(1 − p)).
 * NaN when either list is empty (the paper leaves it undefined).
 *
 * Why RBO exists here and natively (rboMatrix, native/core/rank/rbo.cpp): the native kernel computes the
 * whole m×m matrix, asynchronously. This TypeScript evaluator serves what that cannot: one synchronous
 * pair of name lists (this function), and a sample of pairs (analysis with `samplePairs`), where the full
 * matrix is the cost being avoided. Both evaluate eq. 32 the same way (tail-sum tables, O(n) per pair), and
 * the native matrix is tested against this one.
 */
export function rankBiasedOverlap(s: readonly string[], t: readonly string[], p: number): number {
  checkP(p);
  const ids = new Map<string, number>();
  const index = (list: readonly string[]) => Int32Array.from(list, (f) => ids.get(f) ?? (ids.set(f, ids.size), ids.size - 1));
  const a = index(s);
  const b = index(t);
  return new RboEvaluator(p).pair(rankPositions(a, ids.size), rankPositions(b, ids.size), a.length, b.length);
}

function checkP(p: number): void {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
}

/** Absent from a ranking, in the positions of {@link rankPositions}. */
export const RANK_ABSENT = 0x7fffffff;

/** `pos[c]` = 0-based rank of column c in `ranking`, or RANK_ABSENT. */
export function rankPositions(ranking: Int32Array, n: number): Int32Array {
  const pos = new Int32Array(n).fill(RANK_ABSENT);
  ranking.forEach((c, r) => (pos[c] = r));
  return pos;
}

/**
 * Eq. 32 for rankings over a shared set of n columns, exact and O(n) per pair with no hashing. A column c
 * of both lists, at 0-based ranks r_S and r_L, counts in X_d exactly for d > max(r_S, r_L),
 * so Σ_{d≤l} (X_d/d) p^d = Σ_c T_l[max(r_S, r_L)] with the tail sums T_l[t] = Σ_{d=t+1..l} p^d/d, computed
 * once per list length; X_s counts the columns with max < s, X_l all common ones. Group analysis evaluates
 * every pair of its runs through one evaluator.
 */
export class RboEvaluator {
  readonly p: number;
  #pw = new Float64Array([1]);
  #tails = new Map<number, Float64Array>();
  #uneven = new Map<number, number>();

  constructor(p: number) {
    checkP(p);
    this.p = p;
  }

  #powers(l: number): Float64Array {
    if (this.#pw.length <= l) {
      const pw = new Float64Array(Math.max(l + 1, 2 * this.#pw.length));
      pw[0] = 1;
      for (let d = 1; d < pw.length; d++) pw[d] = pw[d - 1]! * this.p;
      this.#pw = pw;
    }
    return this.#pw;
  }

  #tail(l: number): Float64Array {
    let t = this.#tails.get(l);
    if (!t) {
      const pw = this.#powers(l);
      t = new Float64Array(l + 1);
      // Summed from the deep end: each entry is a sum of positive terms, no cancellation.
      for (let d = l; d >= 1; d--) t[d - 1] = t[d]! + pw[d]! / d;
      this.#tails.set(l, t);
    }
    return t;
  }

  // Σ_{d=s+1..l} (d − s)/d p^d, the extrapolated overlap of S's unseen tail per unit of X_s/s.
  #unevenSum(s: number, l: number): number {
    const key = s * 2 ** 26 + l;
    let v = this.#uneven.get(key);
    if (v === undefined) {
      const pw = this.#powers(l);
      v = 0;
      for (let d = s + 1; d <= l; d++) v += ((d - s) / d) * pw[d]!;
      this.#uneven.set(key, v);
    }
    return v;
  }

  /**
   * RBO_ext of two rankings over the same n columns, given as positions (`posA[c]` = 0-based rank of
   * column c in A, RANK_ABSENT when A lacks it; see {@link rankPositions}) and the rankings' lengths.
   */
  pair(posA: Int32Array, posB: Int32Array, lenA: number, lenB: number): number {
    const s = Math.min(lenA, lenB);
    const l = Math.max(lenA, lenB);
    if (s === 0) return Number.NaN;
    const tail = this.#tail(l);
    const n = posA.length;
    let acc = 0;
    let xs = 0;
    let xl = 0;
    for (let c = 0; c < n; c++) {
      const a = posA[c]!;
      const b = posB[c]!;
      // max(a, b) without a branch: ranks of two different runs compare unpredictably, and a mispredicted
      // branch per column costs more than the rest of the loop (ranks and RANK_ABSENT fit in 31 bits).
      const d = a - b;
      const mx = a - (d & (d >> 31));
      if (mx >= l) continue; // absent from one of the two
      acc += tail[mx]!;
      xl++;
      xs += (mx - s) >>> 31; // mx < s
    }
    const p = this.p;
    const extra = l > s && xs > 0 ? (xs / s) * this.#unevenSum(s, l) : 0;
    return ((1 - p) / p) * (acc + extra) + ((xl - xs) / l + xs / s) * this.#powers(l)[l]!;
  }
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
 * and the 95% interval Φ̂ ± 1.96 √v (the paper's normal interval, not clipped to Φ̂'s range). Degenerate cases:
 * fewer than two runs, no features, or every run selecting nothing or everything (k̄ = 0 or d: the
 * denominator vanishes) are undefined, NaN with the reason; identical selections of 0 < k < d features are
 * exactly Φ̂ = 1 with variance 0 and interval [1, 1].
 */
export function nogueiraStability(Z: ReadonlyArray<Uint8Array>): NogueiraStability {
  const M = Z.length;
  const d = M ? Z[0]!.length : 0;
  const base = { runs: M, features: d };
  const nan = (why: string): NogueiraStability => ({
    value: Number.NaN,
    variance: Number.NaN,
    ci95: [Number.NaN, Number.NaN],
    meanSize: Number.NaN,
    ...base,
    undefinedBecause: why,
  });
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
  // Every p̂_f is 0 or 1 only when all selections are the same set; the φ_i below would then agree up to
  // rounding, so the exact values are returned rather than a variance of ~1e-33.
  if (s2 === 0) return { value: 1, variance: 0, ci95: [1, 1], meanSize: kbar, ...base };
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
