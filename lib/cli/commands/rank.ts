/**
 * `tft-native rank momentum`: how persistent cross-sectional momentum rankings are (momentumStability in
 * lib/rank); this command parses the flags and prints the result as a table or JSON.
 */
import type { Command } from 'commander';

import { integerIn } from '../parsers.js';
import { MOMENTUM_DEFAULTS, momentumStability, type MomentumStability } from '../../rank/momentum-stability.js';

interface MomentumFlags {
  data?: string[];
  start?: string;
  end?: string;
  lookback: number;
  skip: number;
  step: number;
  json?: boolean;
}

const dayCount = (min: number) => integerIn(min);

function printMomentum(r: MomentumStability): void {
  const out = (s: string) => process.stdout.write(s + '\n');
  out(
    `momentum rankings (${r.lookback}-${r.skip}) of ${r.symbols.length} symbols every ${r.step} days: ${r.dates.length} rankings, ${r.dates[0]} … ${r.dates.at(-1)}`,
  );
  out('\n  lag (days)   Kendall tau-b   Spearman   weighted tau   pairs');
  for (const l of r.byLag) {
    out(
      `  ${String(l.days).padStart(10)}   ${l.kendall.toFixed(3).padStart(13)}   ${l.spearman.toFixed(3).padStart(8)}   ${l.weightedTau.toFixed(3).padStart(12)}   ${String(l.pairs).padStart(5)}`,
    );
  }
  out('\n  year   mean Kendall tau between consecutive rankings');
  for (const y of r.byYear)
    out(`  ${y.year}   ${y.kendall.toFixed(3).padStart(6)}  ${'█'.repeat(Math.max(0, Math.round(y.kendall * 40)))}`);
  out(`\n  (${(r.dates.length * (r.dates.length - 1) * 1.5).toFixed(0)} pairwise statistics in ${(r.seconds * 1000).toFixed(0)} ms)`);
}

export function registerRank(program: Command): void {
  const rank = program.command('rank').description('bulk rank statistics on real data');
  rank
    .command('momentum')
    .description(
      'stability of cross-sectional momentum rankings (Kendall, Spearman, weighted tau at increasing lags); bundled Dow 30 by default',
    )
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format')
    .option('--start <date>', 'first date (YYYY-MM-DD)')
    .option('--end <date>', 'last date (YYYY-MM-DD)')
    .option('--lookback <days>', 'momentum lookback in trading days', dayCount(1), MOMENTUM_DEFAULTS.lookback)
    .option('--skip <days>', 'most recent days left out of the momentum return', dayCount(0), MOMENTUM_DEFAULTS.skip)
    .option('--step <days>', 'days between rankings', dayCount(1), MOMENTUM_DEFAULTS.step)
    .option('--json', 'machine-readable output')
    .action(async (f: MomentumFlags) => {
      const r = await momentumStability({ data: f.data, start: f.start, end: f.end, lookback: f.lookback, skip: f.skip, step: f.step });
      if (f.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else printMomentum(r);
    });
}
