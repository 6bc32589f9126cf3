/** The seed-style console summary of an AttributionAnalysis (the `explain` command prints it). */
import type { AttributionAnalysis } from './analyzer.js';
import type { HealthCheck } from './health.js';

const MARK: Record<HealthCheck['level'], string> = { good: '✓', warn: '!', bad: '✗' };

function f3(v: number): string {
  return v.toFixed(3);
}

export function formatAnalysis(a: AttributionAnalysis, topPerGroup = 3): string[] {
  const lines: string[] = [];
  lines.push(`attribution analysis of ${a.windows} windows in ${a.seconds.toFixed(1)} s (primary method ${a.primaryMethod})`);
  for (const m of a.methods)
    lines.push(
      `  ${m.method.padEnd(20)} ${m.seconds.toFixed(2)} s` +
        (m.maxAbsDelta !== undefined ? `, max |completeness delta| ${m.maxAbsDelta.toExponential(1)}` : ''),
    );
  lines.push('top features by group (score: importance / top importance; share: of the total):');
  for (const g of a.rankings.byGroup) {
    const top = g.features
      .slice(0, topPerGroup)
      .map((f) => `${f.feature} ${f3(f.score)}`)
      .join(', ');
    lines.push(`  ${g.group.padEnd(16)} ${(100 * g.share).toFixed(1).padStart(5)}%  ${top}`);
  }
  if (a.consensus)
    lines.push(
      `Attribution consensus: ${f3(a.consensus.meanCorrelation)} (min ${f3(a.consensus.minCorrelation)}, std ${f3(a.consensus.stdCorrelation)}, ` +
        `${(100 * a.consensus.agreementScore).toFixed(0)}% of method pairs above ${a.consensus.agreementThreshold}; ${a.consensus.statistic})`,
    );
  const q = a.quality;
  lines.push(
    `Attribution quality - Sparsity: ${f3(q.sparsity)}, Concentration: ${f3(q.concentration)}` +
      (q.infidelity !== undefined ? `, Infidelity: ${q.infidelity.toExponential(2)}` : '') +
      (q.sensitivity !== undefined ? `, Sensitivity: ${f3(q.sensitivity)}` : ''),
  );
  const across = (s: { acrossWindows: number; acrossAnalyses?: number }) =>
    `${f3(s.acrossWindows)} across windows` + (s.acrossAnalyses !== undefined ? `, ${f3(s.acrossAnalyses)} since the last analysis` : '');
  lines.push(`VSN weight consistency: ${across(a.vsnStability)}; attention consistency: ${across(a.attentionStability)}`);
  const d = a.deadFeatures;
  lines.push(
    d.sufficientHistory
      ? `Dead features: ${d.count} (${d.band})` + (d.count > 0 ? `: ${d.features.slice(0, 10).join(', ')}${d.count > 10 ? ', …' : ''}` : '')
      : `Dead features: not judged yet (${d.windows} windows over ${d.analyses} analyses; needs more history)`,
  );
  if (a.gradientFlow)
    lines.push(`Gradient flow: ${a.gradientFlow.vanishing.length} vanishing, ${a.gradientFlow.exploding.length} exploding layers`);
  lines.push('health:');
  for (const h of a.health)
    lines.push(`  ${MARK[h.level]} ${h.metric.padEnd(16)} ${Number.isInteger(h.value) ? h.value : f3(h.value)}  ${h.reason}`);
  return lines;
}

/** One line for progress logs: the numbers a training run watches. */
export function formatAnalysisLine(a: AttributionAnalysis): string {
  const parts = [
    a.consensus ? `consensus ${f3(a.consensus.meanCorrelation)}` : undefined,
    `sparsity ${f3(a.quality.sparsity)}`,
    `concentration ${f3(a.quality.concentration)}`,
    a.quality.infidelity !== undefined ? `infidelity ${a.quality.infidelity.toExponential(1)}` : undefined,
    a.deadFeatures.sufficientHistory ? `dead features ${a.deadFeatures.count}` : undefined,
    `top ${a.rankings.overall
      .slice(0, 3)
      .map((f) => f.feature)
      .join(', ')}`,
  ].filter((p) => p !== undefined);
  const worst = a.health.some((h) => h.level === 'bad') ? '✗' : a.health.some((h) => h.level === 'warn') ? '!' : '✓';
  return `${worst} attribution over ${a.windows} windows: ${parts.join(', ')} (${a.seconds.toFixed(1)} s)`;
}
