/**
 * How persistent cross-sectional momentum rankings are. Every `step` days the symbols are ranked by their
 * trailing return (lookback days, skipping the most recent `skip`: the classic 12-1 momentum); Kendall
 * tau-b, Spearman and weighted-tau matrices between all those rankings are computed natively, and the mean
 * correlation at increasing lags shows how fast the ranking decays.
 */
import { MarketDataStore, type PricePanel } from '../data/index.js';
import { InvalidArgumentError } from '../errors.js';
import { loadAddon } from '../native/loader.js';
import { finiteSummary, superDiagonal } from './pairwise-summary.js';
import { kendallTauMatrix, spearmanMatrix, weightedTauMatrix } from './rank-correlation.js';

/** 12-1 momentum re-ranked monthly: a year of trading days, the most recent month left out, every month. */
export const MOMENTUM_DEFAULTS = { lookback: 252, skip: 21, step: 21 } as const;

/** Lags (in rebalance steps) the decay is reported at: one step to two years of monthly rankings. */
const LAGS = [1, 2, 3, 6, 12, 24];

export interface MomentumOptions {
  /** CSV or Parquet price files in long format (default: the bundled Dow 30). */
  data?: string[];
  /** First and last date, YYYY-MM-DD. */
  start?: string;
  end?: string;
  /** Trading days of the trailing return (default 252). */
  lookback?: number;
  /** Most recent days left out of it (default 21); smaller than lookback. */
  skip?: number;
  /** Days between rankings (default 21). */
  step?: number;
}

export interface MomentumLag {
  lag: number;
  days: number;
  kendall: number;
  spearman: number;
  weightedTau: number;
  /** Pairs of rankings with a finite Kendall tau at this lag. */
  pairs: number;
}

export interface MomentumStability {
  symbols: string[];
  dates: string[];
  lookback: number;
  skip: number;
  step: number;
  /** Mean correlation between rankings `lag` steps apart, for each statistic. */
  byLag: MomentumLag[];
  /** Mean lag-1 Kendall tau per calendar year. */
  byYear: { year: string; kendall: number; rankings: number }[];
  /** Time of the rank statistics (data loading excluded). */
  seconds: number;
}

function resolveOptions(opts: MomentumOptions): { lookback: number; skip: number; step: number } {
  const lookback = opts.lookback ?? MOMENTUM_DEFAULTS.lookback;
  const skip = opts.skip ?? MOMENTUM_DEFAULTS.skip;
  const step = opts.step ?? MOMENTUM_DEFAULTS.step;
  for (const [k, v] of [
    ['lookback', lookback],
    ['skip', skip],
    ['step', step],
  ] as const) {
    if (!Number.isInteger(v) || v < (k === 'skip' ? 0 : 1))
      throw new InvalidArgumentError(`--${k}: must be a positive integer, got ${v}`, k);
  }
  if (skip >= lookback) throw new InvalidArgumentError('--skip must be smaller than --lookback', 'skip');
  return { lookback, skip, step };
}

async function loadPanel(opts: MomentumOptions): Promise<PricePanel> {
  const store = opts.data?.length ? await MarketDataStore.open(opts.data) : await MarketDataStore.bundled();
  try {
    return await store.panel({ start: opts.start, end: opts.end });
  } finally {
    await store.close();
  }
}

/** Rows = rebalance days, columns = symbols: the trailing return, NaN where a price is missing. */
function momentumScores(panel: PricePanel, days: readonly number[], lookback: number, skip: number): Float64Array {
  const S = panel.symbols.length;
  const D = panel.dates.length;
  const scores = new Float64Array(days.length * S);
  days.forEach((t, i) => {
    for (let s = 0; s < S; s++) {
      const from = panel.close[s * D + t - lookback]!;
      const to = panel.close[s * D + t - skip]!;
      scores[i * S + s] = Number.isFinite(from) && Number.isFinite(to) && from > 0 ? to / from - 1 : Number.NaN;
    }
  });
  return scores;
}

function meanAtLag(M: Float64Array, m: number, lag: number): { mean: number; count: number } {
  return finiteSummary(superDiagonal(M, m, lag));
}

function yearlyKendall(kendall: Float64Array, m: number, rankingDates: readonly string[]): MomentumStability['byYear'] {
  const years = new Map<string, { s: number; n: number }>();
  for (let i = 0; i + 1 < m; i++) {
    const v = kendall[i * m + i + 1]!;
    if (!Number.isFinite(v)) continue;
    const y = rankingDates[i + 1]!.slice(0, 4);
    const e = years.get(y) ?? { s: 0, n: 0 };
    e.s += v;
    e.n++;
    years.set(y, e);
  }
  return [...years].map(([year, e]) => ({ year, kendall: e.s / e.n, rankings: e.n }));
}

/**
 * Ranks the symbols by momentum every `step` days and measures how the rankings agree at increasing lags.
 * InvalidArgumentError for a bad option, or fewer than 2 symbols or 2 rebalance dates in the range.
 */
export async function momentumStability(opts: MomentumOptions = {}): Promise<MomentumStability> {
  const { lookback, skip, step } = resolveOptions(opts);
  const panel = await loadPanel(opts);
  loadAddon(); // loaded before the clock starts: the timing is of the statistics only
  const t0 = performance.now();
  const days: number[] = [];
  for (let t = lookback; t < panel.dates.length; t += step) days.push(t);
  if (days.length < 2 || panel.symbols.length < 2) {
    throw new InvalidArgumentError(
      `need at least 2 symbols and 2 rebalance dates (have ${panel.symbols.length} symbols, ${days.length} dates); shorten --lookback or --step`,
      'lookback',
    );
  }
  const m = days.length;
  const input = { data: momentumScores(panel, days, lookback, skip), rows: m, cols: panel.symbols.length };
  const [kendall, spearman, weighted] = await Promise.all([kendallTauMatrix(input), spearmanMatrix(input), weightedTauMatrix(input)]);
  const byLag = LAGS.filter((lag) => lag < m).map((lag) => {
    const k = meanAtLag(kendall, m, lag);
    return {
      lag,
      days: lag * step,
      kendall: k.mean,
      spearman: meanAtLag(spearman, m, lag).mean,
      weightedTau: meanAtLag(weighted, m, lag).mean,
      pairs: k.count,
    };
  });
  const dates = days.map((t) => panel.dates[t]!);
  return {
    symbols: panel.symbols,
    dates,
    lookback,
    skip,
    step,
    byLag,
    byYear: yearlyKendall(kendall, m, dates),
    seconds: (performance.now() - t0) / 1000,
  };
}
