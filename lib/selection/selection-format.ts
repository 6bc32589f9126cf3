/** Console text for a selection run: one line per phase event, and the final report. */
import type { FeatureSelector } from './feature-selector.js';
import type { PrefilterResult } from './prefilter.js';
import type { SelectionEvent } from './run-selection.js';

const num = (x: number | null | undefined, d = 2) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function formatPrefilterLine(fold: number, r: PrefilterResult): string {
  const coverage = r.dropped.filter((d) => d.reason.tier === 'coverage').length;
  const correlation = r.dropped.filter((d) => d.reason.tier === 'correlation').length;
  return (
    `fold ${fold} Tier 1 (${r.trainStart}..${r.trainEnd}, ${r.rows} rows): ${r.candidates} features → coverage −${coverage} → ` +
    `correlation −${correlation} → ${r.kept.length} kept (${num(r.seconds, 1)} s)`
  );
}

/** A line for the events worth a line (not the exploration trainings' epochs). */
export function formatSelectionEvent(e: SelectionEvent): string | undefined {
  switch (e.type) {
    case 'prefilter':
      return formatPrefilterLine(e.fold, e.result);
    case 'exploration-start':
      return `fold ${e.fold} exploration: ${e.features} features, trains ${e.innerTrain.join('..')}, validates ${e.innerValidation.join('..')}`;
    case 'exploration-end': {
      const x = e.exploration;
      return (
        `fold ${e.fold} exploration done: ${x.epochs} epochs, test Sharpe ${num(x.testSharpe)}` +
        `${x.mutualInfo ? `, MI of ${Object.keys(x.mutualInfo).length} features` : ''}` +
        `${x.permutation ? `, permutation of ${Object.keys(x.permutation).length}` : ''}, ${num(x.seconds, 0)} s`
      );
    }
    case 'tier2':
      return `fold ${e.fold} Tier 2: ${e.selected} features selected${e.fallback ? ' (no feature was stable: Tier-1 survivors by VSN weight)' : ''}`;
    default:
      return undefined;
  }
}

export function formatSelectionReport(s: FeatureSelector, topN = 15): string {
  const st = s.state;
  const lines: string[] = [''];
  lines.push('fold  train end    Tier 1 kept  selected  Nogueira (95% CI)');
  for (const sel of st.selections) {
    const f = st.folds.find((x) => x.fold === sel.fold)!;
    const ng = sel.report.nogueira;
    const ci = Number.isFinite(ng.value)
      ? `${num(ng.value)} [${num(ng.ci95[0])}, ${num(ng.ci95[1])}]`
      : `n/a (${ng.undefinedBecause ?? 'undefined'})`;
    lines.push(
      `${String(sel.fold).padEnd(6)}${sel.trainEnd.padEnd(13)}${String(f.prefilter.kept.length).padStart(11)}  ${String(sel.features.length).padStart(8)}  ${ci}`,
    );
  }
  const report = s.report;
  if (report) {
    lines.push(
      `\n${st.data.features.length} features → ${st.folds.at(-1)?.prefilter.kept.length ?? 0} after Tier 1 → ${s.recommendedFeatures.length} recommended (last fold)`,
    );
    lines.push('\nrank  feature                          group              mean VSN  folds selected');
    s.recommendedFeatures.slice(0, topN).forEach((n, i) => {
      lines.push(
        `${String(i + 1).padEnd(6)}${n.padEnd(33)}${(st.data.groups[st.data.features.indexOf(n)] ?? '').padEnd(19)}${num(report.meanVsnWeight[n], 4).padStart(8)}  ${num(report.stabilityScores[n], 2).padStart(14)}`,
      );
    });
    lines.push('\ngroup                candidates  stable  recommended  VSN share');
    for (const [g, b] of Object.entries(report.featureGroupBreakdown).sort((a, b) => b[1].weightShare - a[1].weightShare)) {
      lines.push(
        `${g.padEnd(21)}${String(b.candidates).padStart(10)}  ${String(b.stable).padStart(6)}  ${String(b.recommended).padStart(11)}  ${(100 * b.weightShare).toFixed(1).padStart(8)}%`,
      );
    }
  }
  if (st.agreement) {
    const a = st.agreement;
    const m = a.methods.length;
    const pairs: string[] = [];
    for (let i = 0; i < m; i++)
      for (let j = i + 1; j < m; j++) pairs.push(`${a.methods[i]} vs ${a.methods[j]} ${num(a.spearman[i * m + j])}`);
    lines.push(`\nrank agreement (Spearman): ${pairs.join(', ')}`);
    if (a.flagged.length) {
      lines.push(`flagged for review (percentile gap ≥ ${st.config.disagreementGap}): ${a.flagged.length}`);
      for (const f of a.flagged.slice(0, 10)) {
        const detail = Object.entries(f.percentiles)
          .map(([k, p]) => `${k} ${num(f.scores[k], 4)} (p${Math.round(100 * p)})`)
          .join(', ');
        lines.push(`  ${f.name}: ${detail}`);
      }
    }
  }
  for (const w of st.warnings ?? []) lines.push(`\nwarning: ${w}`);
  lines.push(`\nselection ran in ${num(st.seconds, 0)} s`);
  return lines.join('\n');
}
