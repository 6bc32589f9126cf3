/** Text rendering of stability reports for the CLI and logs; JSON conversion for --json. */
import type { StabilityReport } from './analysis.js';
import { groupId } from './snapshot-store.js';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

export function formatReport(r: StabilityReport, features = 5): string {
  const lines: string[] = [];
  lines.push(`${groupId(r.group)}: ${r.runs} runs, ${r.features} features, top-${r.topK}`);
  lines.push('  metric                        value   threshold  status');
  const STATUS = { pass: 'pass', warn: 'WARN', 'n/a': 'n/a' } as const;
  const row = (name: string, metric: StabilityReport['checks'][number]['metric'], note = '') => {
    const c = r.checks.find((x) => x.metric === metric)!;
    lines.push(`  ${name.padEnd(28)}${f3(c.value).padStart(7)}   ${c.threshold.toFixed(2).padStart(9)}  ${STATUS[c.status]}${note}`);
  };
  const sampledNote = (s: { sampled: boolean; pairs: number; standardError: number }) =>
    s.sampled ? `  (${s.pairs} sampled pairs, ±${s.standardError.toFixed(3)})` : '';
  row(`top-${r.topK} overlap (Jaccard)`, 'topKOverlap');
  row('Kendall tau-b', 'kendallTau');
  row('weighted tau', 'weightedTau', sampledNote(r.weightedTau));
  row(`rank-biased overlap (p=${r.rbo.p.toFixed(2)})`, 'rbo', sampledNote(r.rbo));
  const ng = r.nogueira;
  row(
    'Nogueira stability',
    'nogueira',
    ng.undefinedBecause ? `  (undefined: ${ng.undefinedBecause})` : `  (95% CI ${f3(ng.ci95[0])} .. ${f3(ng.ci95[1])})`,
  );
  const stable = r.selection.filter((s) => s.stable).length;
  const share = `${+(100 * r.thresholds.minSelectionFrequency).toFixed(1)}%`;
  lines.push(`  stable features (in the top-${r.topK} of ≥ ${share} of runs): ${stable} of ${r.features}`);
  const fmt = (s: StabilityReport['selection'][number]) =>
    `${s.feature} (${(100 * s.frequency).toFixed(0)}%, mean rank ${s.meanRank.toFixed(1)})`;
  const most = r.selection.slice(0, features);
  lines.push(`  most stable:  ${most.map(fmt).join(', ')}`);
  // Never selected features say nothing about instability; nor do those already listed as most stable.
  const least = r.selection
    .slice(most.length)
    .filter((s) => s.frequency > 0)
    .slice(-features)
    .reverse();
  lines.push(`  least stable: ${least.map(fmt).join(', ') || 'n/a'}`);
  for (const w of r.warnings) lines.push(`  WARNING ${w}`);
  for (const i of r.issues) lines.push(`  skipped ${i.path}: ${i.reason}`);
  return lines.join('\n');
}

/** A report as plain JSON (matrices as nested arrays when present). */
export function reportToJSON(r: StabilityReport): unknown {
  const { matrices, ...rest } = r;
  const m = matrices?.runIds.length ?? 0;
  const rows = (a: Float64Array) =>
    Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * m, (i + 1) * m), (v) => (Number.isFinite(v) ? v : null)));
  return {
    ...rest,
    ...(matrices
      ? {
          matrices: {
            runIds: matrices.runIds,
            topKOverlap: rows(matrices.topKOverlap),
            kendallTau: rows(matrices.kendallTau),
            ...(matrices.weightedTau ? { weightedTau: rows(matrices.weightedTau) } : {}),
            ...(matrices.rbo ? { rbo: rows(matrices.rbo) } : {}),
          },
        }
      : {}),
  };
}
