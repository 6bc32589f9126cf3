/** Text rendering of stability reports for the CLI and logs; JSON conversion for --json. */
import type { StabilityReport } from './analysis.js';
import { groupId } from './snapshot-store.js';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

export function formatReport(r: StabilityReport, features = 5): string {
  const lines: string[] = [];
  lines.push(`${groupId(r.group)}: ${r.runs} runs, ${r.features} features, top-${r.topK}`);
  lines.push('  metric                        value   threshold  status');
  const row = (name: string, value: string, threshold: number | undefined, passed: boolean | undefined, note = '') =>
    lines.push(`  ${name.padEnd(28)}${value.padStart(7)}   ${threshold === undefined ? '' : threshold.toFixed(2).padStart(9)}  ${passed === undefined ? '' : passed ? 'pass' : 'WARN'}${note}`);
  const check = (m: string) => r.checks.find((c) => c.metric === m);
  const sampledNote = (s: { sampled: boolean; pairs: number; standardError: number }) => (s.sampled ? `  (${s.pairs} sampled pairs, ±${s.standardError.toFixed(3)})` : '');
  row(`top-${r.topK} overlap (Jaccard)`, f3(r.topKOverlap.mean), check('topKOverlap')?.threshold, check('topKOverlap')?.passed);
  row('Kendall tau-b', f3(r.kendallTau.mean), check('kendallTau')?.threshold, check('kendallTau')?.passed);
  row('weighted tau', f3(r.weightedTau.mean), check('weightedTau')?.threshold, check('weightedTau')?.passed, sampledNote(r.weightedTau));
  row(`rank-biased overlap (p=${r.rbo.p.toFixed(2)})`, f3(r.rbo.mean), check('rbo')?.threshold, check('rbo')?.passed, sampledNote(r.rbo));
  const ng = r.nogueira;
  row(
    'Nogueira stability',
    f3(ng.value),
    check('nogueira')?.threshold,
    check('nogueira')?.passed,
    ng.undefinedBecause ? `  (undefined: ${ng.undefinedBecause})` : `  (95% CI ${f3(ng.ci95[0])} .. ${f3(ng.ci95[1])})`,
  );
  const stable = r.selection.filter((s) => s.stable).length;
  lines.push(`  stable features (in the top-${r.topK} of ≥ share of runs): ${stable} of ${r.features}`);
  const fmt = (s: StabilityReport['selection'][number]) => `${s.feature} (${(100 * s.frequency).toFixed(0)}%, mean rank ${s.meanRank.toFixed(1)})`;
  lines.push(`  most stable:  ${r.selection.slice(0, features).map(fmt).join(', ')}`);
  const least = r.selection.filter((s) => s.frequency > 0).slice(-features).reverse();
  lines.push(`  least stable: ${least.map(fmt).join(', ') || 'n/a'}`);
  for (const w of r.warnings) lines.push(`  WARNING ${w}`);
  for (const i of r.issues) lines.push(`  skipped ${i.path}: ${i.reason}`);
  return lines.join('\n');
}

/** A report as plain JSON (matrices as nested arrays when present). */
export function reportToJSON(r: StabilityReport): unknown {
  const { matrices, ...rest } = r;
  const m = matrices?.runIds.length ?? 0;
  const rows = (a: Float64Array) => Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * m, (i + 1) * m), (v) => (Number.isFinite(v) ? v : null)));
  return {
    ...rest,
    ...(matrices ? { matrices: { runIds: matrices.runIds, topKOverlap: rows(matrices.topKOverlap), kendallTau: rows(matrices.kendallTau) } } : {}),
  };
}
