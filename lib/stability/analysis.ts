/**
 * Stability of one group (target, method[, universe]) over its runs.
 *
 * The runs' importances become one m × n matrix over the union of feature names (NaN where a run lacks a
 * feature), so each rank statistic is one native call: Kendall tau-b (features common to both runs, as
 * scipy) and the top-k overlap over all m²/2 pairs; weighted tau and rank-biased overlap over all pairs up
 * to `maxPairs` (default 5,000, i.e. m ≤ 100), beyond that over a seeded uniform sample of that many pairs,
 * with the sampling's standard error reported (about 0.002 for typical spreads). Cost: O(m·n log n) to rank, O(m²·n²/64) bit operations for Kendall,
 * O(m²·n/32) for the overlaps, O(min(m², maxPairs)·n log n) for weighted tau and RBO, O(m·n) for the
 * selection statistics.
 */
import { kendallTauMatrix, rankPairs, topKJaccardMatrix } from '../rank/rank-correlation.js';
import type { Snapshot } from './snapshot.js';
import type { GroupKey, StoreIssue } from './snapshot-store.js';
import { nogueiraStability, rankBiasedOverlapIndexed, rboPForTopK, selectionFrequency, type NogueiraStability } from './metrics.js';
import { DEFAULT_THRESHOLDS, type StabilityThresholds } from './config.js';

export interface PairwiseMetric {
  /** Mean over the pairs of runs (finite values only). */
  mean: number;
  min: number;
  /** Pairs averaged, and whether they were a sample of all m(m−1)/2. */
  pairs: number;
  sampled: boolean;
  /** Standard error of the mean when sampled (0 otherwise). */
  standardError: number;
}

export interface FeatureStability {
  feature: string;
  /** Fraction of runs with the feature in their top-k. */
  frequency: number;
  /** Mean importance rank (1 = most important) over the runs that have the feature. */
  meanRank: number;
  stable: boolean;
}

export interface ThresholdCheck {
  metric: 'topKOverlap' | 'kendallTau' | 'weightedTau' | 'rbo' | 'nogueira';
  value: number;
  threshold: number;
  passed: boolean;
}

export interface StabilityReport {
  group: GroupKey;
  runs: number;
  features: number;
  topK: number;
  topKOverlap: PairwiseMetric;
  kendallTau: PairwiseMetric;
  weightedTau: PairwiseMetric;
  rbo: PairwiseMetric & { p: number };
  nogueira: NogueiraStability;
  /** Every feature of the union, most frequently selected first. */
  selection: FeatureStability[];
  checks: ThresholdCheck[];
  warnings: string[];
  /** m×m matrices (row-major, run order = `runIds`), when requested. */
  matrices?: { runIds: string[]; topKOverlap: Float64Array; kendallTau: Float64Array };
  issues: StoreIssue[];
  seconds: number;
}

export interface AnalyzeOptions {
  topK?: number;
  thresholds?: Partial<StabilityThresholds>;
  /** Pairs beyond which weighted tau and RBO are estimated from a seeded sample. */
  maxPairs?: number;
  includeMatrices?: boolean;
  issues?: StoreIssue[];
}

function summarize(values: ArrayLike<number>, sampled: boolean): PairwiseMetric {
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
  return { mean, min: n ? min : Number.NaN, pairs: n, sampled, standardError: sampled && n > 0 ? sd / Math.sqrt(n) : 0 };
}

function upperTriangle(M: Float64Array, m: number): Float64Array {
  const out = new Float64Array((m * (m - 1)) / 2);
  let k = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) out[k++] = M[i * m + j]!;
  return out;
}

/** All pairs i < j, or a seeded uniform sample of `max` of them (without replacement). */
function pairList(m: number, max: number, seed: number): { pairs: Int32Array; sampled: boolean } {
  const total = (m * (m - 1)) / 2;
  if (total <= max) {
    const pairs = new Int32Array(2 * total);
    let k = 0;
    for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) ((pairs[k++] = i), (pairs[k++] = j));
    return { pairs, sampled: false };
  }
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const chosen = new Set<number>();
  while (chosen.size < max) chosen.add(Math.floor(rnd() * total));
  const pairs = new Int32Array(2 * max);
  let k = 0;
  for (const t of [...chosen].sort((a, b) => a - b)) {
    // invert the row-major upper-triangle index t -> (i, j)
    let i = Math.floor((2 * m - 1 - Math.sqrt((2 * m - 1) ** 2 - 8 * t)) / 2);
    while (i > 0 && i * m - (i * (i + 1)) / 2 > t) i--;
    while ((i + 1) * m - ((i + 1) * (i + 2)) / 2 <= t) i++;
    const j = t - (i * m - (i * (i + 1)) / 2) + i + 1;
    pairs[k++] = i;
    pairs[k++] = j;
  }
  return { pairs, sampled: true };
}

/** Jaccard of each run's own top-k set (column indices) for every pair, through 32-bit bitsets. */
function ownTopKJaccard(sets: number[][], m: number, n: number): Float64Array {
  const W = (n + 31) >>> 5;
  const bits = new Uint32Array(m * W);
  sets.forEach((cols, r) => cols.forEach((c) => (bits[r * W + (c >>> 5)]! |= 1 << (c & 31))));
  const pop = (x: number) => {
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  };
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    out[i * m + i] = 1;
    for (let j = i + 1; j < m; j++) {
      let inter = 0;
      for (let w = 0; w < W; w++) inter += pop(bits[i * W + w]! & bits[j * W + w]!);
      const union = sets[i]!.length + sets[j]!.length - inter;
      out[i * m + j] = out[j * m + i] = union === 0 ? 1 : inter / union;
    }
  }
  return out;
}

export async function analyzeGroup(snapshots: readonly Snapshot[], opts: AnalyzeOptions = {}): Promise<StabilityReport> {
  const t0 = performance.now();
  const thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const topK = opts.topK ?? 20;
  const maxPairs = opts.maxPairs ?? 5_000;
  const m = snapshots.length;
  const first = snapshots[0];
  const group: GroupKey = first ? { targetName: first.targetName, method: first.method, universeId: first.universeId } : { targetName: '', method: '', universeId: null };
  const universe = [...new Set(snapshots.flatMap((s) => s.features))].sort();
  const n = universe.length;
  const col = new Map(universe.map((f, i) => [f, i]));
  const empty: PairwiseMetric = { mean: Number.NaN, min: Number.NaN, pairs: 0, sampled: false, standardError: 0 };
  const selections = snapshots.map((s) => new Set(s.features.slice(0, topK)));
  const freq = selectionFrequency(selections, universe);
  const rankSum = new Float64Array(n);
  const rankCount = new Float64Array(n);
  for (const s of snapshots) {
    s.features.forEach((f, r) => {
      const c = col.get(f)!;
      rankSum[c] = rankSum[c]! + r + 1;
      rankCount[c] = rankCount[c]! + 1;
    });
  }
  const selection: FeatureStability[] = universe
    .map((f, i) => ({ feature: f, frequency: freq.get(f)!, meanRank: rankCount[i] ? rankSum[i]! / rankCount[i]! : Number.NaN, stable: freq.get(f)! >= thresholds.minSelectionFrequency }))
    .sort((a, b) => b.frequency - a.frequency || a.meanRank - b.meanRank || (a.feature < b.feature ? -1 : 1));
  const Z = selections.map((sel) => {
    const row = new Uint8Array(n);
    for (const f of sel) row[col.get(f)!] = 1;
    return row;
  });
  const nogueira = nogueiraStability(Z);

  let topKOverlap = empty;
  let kendallTau = empty;
  let weightedTau = empty;
  let rbo: PairwiseMetric & { p: number } = { ...empty, p: rboPForTopK(topK) };
  let matrices: StabilityReport['matrices'];
  if (m >= 2 && n >= 2) {
    const data = new Float64Array(m * n).fill(Number.NaN);
    snapshots.forEach((s, r) => s.features.forEach((f, i) => (data[r * n + col.get(f)!] = s.importances[i]!)));
    const input = { data, rows: m, cols: n };
    const complete = snapshots.every((snap) => snap.features.length === n);
    const { pairs, sampled } = pairList(m, maxPairs, m * 7919 + n);
    const [kendall, weighted, nativeJaccard] = await Promise.all([
      kendallTauMatrix(input),
      rankPairs(input, 'weighted_tau', pairs),
      // With every feature in every run, "top-k over the features both runs have" is each run's own top-k.
      complete ? topKJaccardMatrix(input, Math.min(topK, n)) : Promise.resolve(undefined),
    ]);
    const jac = nativeJaccard ?? ownTopKJaccard(selections.map((sel) => [...sel].map((f) => col.get(f)!)), m, n);
    const p = rboPForTopK(topK);
    const ranked = snapshots.map((snap) => Int32Array.from(snap.features, (f) => col.get(f)!));
    const positions = ranked.map((cols) => {
      const pos = new Int32Array(n).fill(0x7fffffff);
      cols.forEach((c, r) => (pos[c] = r));
      return pos;
    });
    const rbos = new Float64Array(pairs.length / 2);
    for (let t = 0; t < rbos.length; t++) {
      const i = pairs[2 * t]!;
      const j = pairs[2 * t + 1]!;
      rbos[t] = rankBiasedOverlapIndexed(ranked[i]!, ranked[j]!, positions[i]!, positions[j]!, p);
    }
    topKOverlap = summarize(upperTriangle(jac, m), false);
    kendallTau = summarize(upperTriangle(kendall, m), false);
    weightedTau = summarize(weighted, sampled);
    rbo = { ...summarize(rbos, sampled), p };
    if (opts.includeMatrices) matrices = { runIds: snapshots.map((s) => s.runId), topKOverlap: jac, kendallTau: kendall };
  }
  const checks: ThresholdCheck[] = [
    { metric: 'topKOverlap', value: topKOverlap.mean, threshold: thresholds.minTopKOverlap },
    { metric: 'kendallTau', value: kendallTau.mean, threshold: thresholds.minKendallTau },
    { metric: 'weightedTau', value: weightedTau.mean, threshold: thresholds.minWeightedTau },
    { metric: 'rbo', value: rbo.mean, threshold: thresholds.minRbo },
    { metric: 'nogueira', value: nogueira.value, threshold: thresholds.minNogueira },
  ].map((c) => ({ ...c, metric: c.metric as ThresholdCheck['metric'], passed: !Number.isFinite(c.value) || c.value >= c.threshold }));
  const warnings = checks
    .filter((c) => !c.passed)
    .map((c) => `${group.targetName}/${group.method}${group.universeId ? `[${group.universeId}]` : ''}: ${c.metric} ${c.value.toFixed(3)} is below the threshold ${c.threshold}`);
  if (m < 2) warnings.push(`${group.targetName}/${group.method}: only ${m} run(s); stability needs at least two`);
  return {
    group,
    runs: m,
    features: n,
    topK,
    topKOverlap,
    kendallTau,
    weightedTau,
    rbo,
    nogueira,
    selection,
    checks,
    warnings,
    matrices,
    issues: opts.issues ?? [],
    seconds: (performance.now() - t0) / 1000,
  };
}
