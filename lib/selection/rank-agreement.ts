/**
 * How the selector's methods agree: VSN weight (what the TFT attends to), mutual information (what the
 * label shares with a feature on its own) and permutation importance (what the trained model loses without
 * it), plus any attribution method's scores.
 *
 * - Percentile rank of a feature within a method: (average rank from the bottom − 1) / (n − 1) over the
 *   features that method scored, so 1 is the method's top feature and 0 its last (0.5 when n = 1).
 * - Agreement: Spearman's rho between every pair of methods over the features both scored (native kernels).
 * - Review flags: a feature two methods place at least `gap` apart in percentile (e.g. VSN's top quarter,
 *   MI's bottom quarter), with every method's score and percentile.
 * - Consensus merge: each feature's mean percentile over the methods that scored it (weighted, default 1
 *   each: a Borda count robust to the methods' different scales); ties go to the higher VSN percentile,
 *   then to the name.
 */
import { spearmanMatrix } from '../rank/rank-correlation.js';

export interface MethodScores {
  method: string;
  /** Higher = more important; features a method did not score are absent. */
  scores: Record<string, number>;
}

export interface ReviewFlag {
  name: string;
  methods: [string, string];
  gap: number;
  percentiles: Record<string, number>;
  scores: Record<string, number>;
}

export interface RankAgreement {
  methods: string[];
  /** methods × methods Spearman, row-major (NaN with < 2 common features). */
  spearman: number[];
  flagged: ReviewFlag[];
}

export interface ConsensusEntry {
  name: string;
  score: number;
  percentiles: Record<string, number>;
}

export function percentileRanks(scores: Record<string, number>): Record<string, number> {
  const names = Object.keys(scores).filter((n) => Number.isFinite(scores[n]));
  const sorted = [...names].sort((a, b) => scores[a]! - scores[b]!);
  const out: Record<string, number> = {};
  const n = sorted.length;
  for (let q = 0; q < n;) {
    let e = q;
    while (e < n && scores[sorted[e]!] === scores[sorted[q]!]) e++;
    const avg = (q + e - 1) / 2;
    for (let t = q; t < e; t++) out[sorted[t]!] = n > 1 ? avg / (n - 1) : 0.5;
    q = e;
  }
  return out;
}

export async function rankAgreement(methods: readonly MethodScores[], gap: number): Promise<RankAgreement> {
  const names = [...new Set(methods.flatMap((m) => Object.keys(m.scores)))].sort();
  const rows = methods.map((m) => names.map((n) => (Number.isFinite(m.scores[n]) ? m.scores[n]! : null)));
  const spearman = methods.length >= 2 && names.length > 0 ? Array.from(await spearmanMatrix(rows)) : methods.map(() => 1);
  const pct = methods.map((m) => percentileRanks(m.scores));
  const flagged: ReviewFlag[] = [];
  for (const name of names) {
    let worst: ReviewFlag | undefined;
    for (let a = 0; a < methods.length; a++) {
      for (let b = a + 1; b < methods.length; b++) {
        const pa = pct[a]![name];
        const pb = pct[b]![name];
        if (pa === undefined || pb === undefined || Math.abs(pa - pb) < gap) continue;
        if (worst && Math.abs(pa - pb) <= worst.gap) continue;
        worst = { name, methods: [methods[a]!.method, methods[b]!.method], gap: Math.abs(pa - pb), percentiles: {}, scores: {} };
      }
    }
    if (!worst) continue;
    methods.forEach((m, i) => {
      if (pct[i]![name] === undefined) return;
      worst.percentiles[m.method] = pct[i]![name]!;
      worst.scores[m.method] = m.scores[name]!;
    });
    flagged.push(worst);
  }
  flagged.sort((x, y) => y.gap - x.gap || (x.name < y.name ? -1 : 1));
  return { methods: methods.map((m) => m.method), spearman, flagged };
}

export function consensusMerge(methods: readonly MethodScores[], weights: Record<string, number> = {}): ConsensusEntry[] {
  const pct = methods.map((m) => percentileRanks(m.scores));
  const names = [...new Set(pct.flatMap((p) => Object.keys(p)))];
  const entries = names.map((name) => {
    let s = 0;
    let w = 0;
    const percentiles: Record<string, number> = {};
    methods.forEach((m, i) => {
      const p = pct[i]![name];
      if (p === undefined) return;
      const wi = weights[m.method] ?? 1;
      s += wi * p;
      w += wi;
      percentiles[m.method] = p;
    });
    return { name, score: w > 0 ? s / w : 0, percentiles };
  });
  const vsn = (e: ConsensusEntry) => e.percentiles.vsn ?? -1;
  return entries.sort((a, b) => b.score - a.score || vsn(b) - vsn(a) || (a.name < b.name ? -1 : 1));
}
