/** Console text of a tuning run: one line per finished trial, and the final table of trials and best parameters. */
import type { TuningResult, TuningTrial } from './hp-tuner.js';

const num = (x: number | null | undefined, d = 2) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '-');

export function formatParams(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(3)) : String(v)}`)
    .join(' ');
}

export function formatTrialLine(t: TuningTrial, best: { number: number; value: number } | null, pruned: number): string {
  const folds = t.foldValues.map((v) => num(v)).join(' ');
  const bestPart = best ? `best #${best.number} ${num(best.value)}` : 'no complete trial yet';
  return `trial ${t.number} ${t.state.toLowerCase()}: Sharpe ${num(t.value)} (folds ${folds || '-'}), ${num(t.seconds, 0)} s; ${bestPart}; ${pruned} pruned`;
}

export function formatTuningSummary(r: TuningResult, checkpoint?: string): string {
  const lines = ['', 'trial  state     Sharpe  folds                      seconds  params'];
  for (const t of r.trials) {
    lines.push(
      `${String(t.number).padEnd(7)}${t.state.toLowerCase().padEnd(9)}${num(t.value).padStart(7)}  ${t.foldValues
        .map((v) => num(v))
        .join(' ')
        .padEnd(25)}  ${num(t.seconds, 0).padStart(7)}  ${formatParams(t.params)}`,
    );
  }
  const counts = ['COMPLETE', 'PRUNED', 'FAIL'].map((s) => `${r.trials.filter((t) => t.state === s).length} ${s.toLowerCase()}`).join(', ');
  lines.push('', `study '${r.studyName}' (${r.storage}): ${r.trials.length} trials, ${counts}`);
  lines.push(
    `best trial #${r.bestTrial}: mean OOS Sharpe ${num(r.bestValue)} over the tuning folds (optimistic: the tuner chose it on these folds)`,
  );
  lines.push(`best parameters: ${formatParams(r.bestParams)}`);
  if (checkpoint) lines.push(`checkpoint (trained with the best parameters, full budget): ${checkpoint}`);
  return lines.join('\n');
}
