/**
 * `tft-native rank momentum`: how persistent cross-sectional momentum rankings are. Every `step` days the
 * symbols are ranked by their trailing return (lookback days, skipping the most recent `skip`, the classic
 * 12-1 momentum); Kendall tau-b and Spearman matrices between all those rankings are computed natively,
 * and the mean correlation at increasing lags shows how fast the ranking decays.
 */
import { InvalidArgumentError as UsageError, type Command } from 'commander';

import { InvalidArgumentError } from '../../errors.js';
import { MarketDataStore } from '../../data/market-data-store.js';
import { loadAddon } from '../../native/loader.js';
import { kendallTauMatrix, spearmanMatrix, weightedTauMatrix } from '../../rank/rank-correlation.js';

interface MomentumFlags {
  data?: string[];
  start?: string;
  end?: string;
  lookback: number;
  skip: number;
  step: number;
  json?: boolean;
}

export interface MomentumStability {
  symbols: string[];
  dates: string[];
  lookback: number;
  skip: number;
  step: number;
  /** Mean correlation between rankings `lag` steps apart, for each statistic. */
  byLag: { lag: number; days: number; kendall: number; spearman: number; weightedTau: number; pairs: number }[];
  /** Mean lag-1 Kendall tau per calendar year. */
  byYear: { year: string; kendall: number; rankings: number }[];
  seconds: number;
}

function meanAtLag(M: Float64Array, m: number, lag: number): [number, number] {
  let s = 0;
  let n = 0;
  for (let i = 0; i + lag < m; i++) {
    const v = M[i * m + i + lag]!;
    if (Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return [n ? s / n : Number.NaN, n];
}

export async function momentumStability(opts: {
  data?: string[];
  start?: string;
  end?: string;
  lookback?: number;
  skip?: number;
  step?: number;
}): Promise<MomentumStability> {
  const lookback = opts.lookback ?? 252;
  const skip = opts.skip ?? 21;
  const step = opts.step ?? 21;
  for (const [k, v] of [['lookback', lookback], ['skip', skip], ['step', step]] as const) {
    if (!Number.isInteger(v) || v < (k === 'skip' ? 0 : 1)) throw new InvalidArgumentError(`--${k}: must be a positive integer, got ${v}`, k);
  }
  if (skip >= lookback) throw new InvalidArgumentError('--skip must be smaller than --lookback', 'skip');
  const store = opts.data?.length ? await MarketDataStore.open(opts.data) : await MarketDataStore.bundled();
  let panel;
  try {
    panel = await store.panel({ start: opts.start, end: opts.end });
  } finally {
    await store.close();
  }
  loadAddon(); // not part of the timing below
  const t0 = performance.now();
  const S = panel.symbols.length;
  const D = panel.dates.length;
  const days: number[] = [];
  for (let t = lookback; t < D; t += step) days.push(t);
  if (days.length < 2 || S < 2) {
    throw new InvalidArgumentError(`need at least 2 symbols and 2 rebalance dates (have ${S} symbols, ${days.length} dates); shorten --lookback or --step`, 'lookback');
  }
  const m = days.length;
  const scores = new Float64Array(m * S);
  days.forEach((t, i) => {
    for (let s = 0; s < S; s++) {
      const from = panel.close[s * D + t - lookback]!;
      const to = panel.close[s * D + t - skip]!;
      scores[i * S + s] = Number.isFinite(from) && Number.isFinite(to) && from > 0 ? to / from - 1 : Number.NaN;
    }
  });
  const input = { data: scores, rows: m, cols: S };
  const [kendall, spearman, weighted] = await Promise.all([kendallTauMatrix(input), spearmanMatrix(input), weightedTauMatrix(input)]);
  const byLag = [1, 2, 3, 6, 12, 24]
    .filter((lag) => lag < m)
    .map((lag) => {
      const [k, pairs] = meanAtLag(kendall, m, lag);
      return { lag, days: lag * step, kendall: k, spearman: meanAtLag(spearman, m, lag)[0], weightedTau: meanAtLag(weighted, m, lag)[0], pairs };
    });
  const years = new Map<string, { s: number; n: number }>();
  for (let i = 0; i + 1 < m; i++) {
    const v = kendall[i * m + i + 1]!;
    if (!Number.isFinite(v)) continue;
    const y = panel.dates[days[i + 1]!]!.slice(0, 4);
    const e = years.get(y) ?? { s: 0, n: 0 };
    e.s += v;
    e.n++;
    years.set(y, e);
  }
  return {
    symbols: panel.symbols,
    dates: days.map((t) => panel.dates[t]!),
    lookback,
    skip,
    step,
    byLag,
    byYear: [...years].map(([year, e]) => ({ year, kendall: e.s / e.n, rankings: e.n })),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Commander parser for a day count written in digits (at least `min`); the value given is quoted on error. */
function dayCount(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

export function registerRank(program: Command): void {
  const rank = program.command('rank').description('bulk rank statistics on real data');
  rank
    .command('momentum')
    .description('stability of cross-sectional momentum rankings (Kendall, Spearman, weighted tau at increasing lags); bundled Dow 30 by default')
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format')
    .option('--start <date>', 'first date (YYYY-MM-DD)')
    .option('--end <date>', 'last date (YYYY-MM-DD)')
    .option('--lookback <days>', 'momentum lookback in trading days', dayCount(1), 252)
    .option('--skip <days>', 'most recent days left out of the momentum return', dayCount(0), 21)
    .option('--step <days>', 'days between rankings', dayCount(1), 21)
    .option('--json', 'machine-readable output')
    .action(async (f: MomentumFlags) => {
      const r = await momentumStability({
        data: f.data,
        start: f.start,
        end: f.end,
        lookback: f.lookback,
        skip: f.skip,
        step: f.step,
      });
      if (f.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const out = (s: string) => process.stdout.write(s + '\n');
      out(`momentum rankings (${r.lookback}-${r.skip}) of ${r.symbols.length} symbols every ${r.step} days: ${r.dates.length} rankings, ${r.dates[0]} … ${r.dates.at(-1)}`);
      out('\n  lag (days)   Kendall tau-b   Spearman   weighted tau   pairs');
      for (const l of r.byLag) {
        out(`  ${String(l.days).padStart(10)}   ${l.kendall.toFixed(3).padStart(13)}   ${l.spearman.toFixed(3).padStart(8)}   ${l.weightedTau.toFixed(3).padStart(12)}   ${String(l.pairs).padStart(5)}`);
      }
      out('\n  year   mean Kendall tau between consecutive rankings');
      for (const y of r.byYear) out(`  ${y.year}   ${y.kendall.toFixed(3).padStart(6)}  ${'█'.repeat(Math.max(0, Math.round(y.kendall * 40)))}`);
      out(`\n  (${(r.dates.length * (r.dates.length - 1) * 1.5).toFixed(0)} pairwise statistics in ${(r.seconds * 1000).toFixed(0)} ms)`);
    });
}
