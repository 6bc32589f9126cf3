/**
 * A checkpoint's positions backtested on any range of a store, side by side with the simple rules on the
 * same (asset, day) cells — those where the model and every rule have a position — the same labels (X-Trend's volatility-scaled next-day return), leverage and costs: the step
 * `tft-native backtest` prints. Whether the model beats a one-line rule is the first thing to know.
 */
import type { MarketDataStore } from '../data/market-data-store.js';
import { buildTargets } from '../data/targets.js';
import { DataError } from '../errors.js';
import { BASELINES, baselinePositions, type BaselineName } from '../strategy/baselines.js';
import { backtest, type StrategyMetrics } from '../training/backtest.js';
import type { TFTInferencePipeline } from './pipeline.js';

export type BacktestMetrics = Omit<StrategyMetrics, 'returns'>;

export interface CheckpointBacktest {
  start: string;
  end: string;
  symbols: string[];
  costBps: number;
  model: BacktestMetrics;
  baselines: { name: BaselineName; metrics: BacktestMetrics }[];
  /** Baselines whose Sharpe ratio is above the model's. */
  beatenBy: BaselineName[];
}

function strip(m: StrategyMetrics): BacktestMetrics {
  const { returns: _returns, ...rest } = m;
  return rest;
}

/**
 * Default range: end the data's last day; start the checkpoint's last test range (its out-of-sample days)
 * when it records one, else a year before the end.
 */
export async function backtestCheckpoint(
  pipeline: TFTInferencePipeline,
  store: MarketDataStore,
  o: { start?: string; end?: string; costBps?: number } = {},
): Promise<CheckpointBacktest> {
  const dates = o.start && o.end ? [] : await pipeline.calendar(store);
  const end = o.end ?? dates.at(-1)!;
  const start = o.start ?? pipeline.checkpoint.metadata.trainingInfo?.folds.at(-1)?.test.start ?? dates[Math.max(0, dates.length - 252)]!;
  const b = await pipeline.predictBatch({ start, end }, store);
  // The labels read the day after each day: the whole history of the symbols up to the store's end.
  const prices = await store.panel({ symbols: b.symbols, maxFillDays: pipeline.spec.maxFillDays });
  const t0 = prices.dates.indexOf(b.dates[0]!);
  const t1 = prices.dates.indexOf(b.dates.at(-1)!);
  if (t0 < 0 || t1 < 0) throw new DataError('start: the range is not on the data calendar', 'start');
  const labels = buildTargets(prices, {
    horizons: [1],
    volSpan: pipeline.spec.targets.volSpan,
    sigmaTarget: pipeline.spec.targets.sigmaTarget,
  });
  const A = b.symbols.length;
  const D = prices.dates.length;
  const n = b.dates.length;
  const position = new Float32Array(A * D).fill(Number.NaN);
  for (let a = 0; a < A; a++) position.set(b.positions.subarray(a * n, (a + 1) * n), a * D + t0);
  const run = (z: Float32Array) =>
    backtest({
      position: z,
      target: labels.scaledNextDayReturn,
      scale: labels.leverage,
      assets: A,
      days: D,
      start: t0,
      end: t1,
      costBps: o.costBps ?? 0,
    });
  // The same (asset, day) cells for every strategy: those where the model and every rule have a position.
  const rules = BASELINES.map((name) => ({ name, z: baselinePositions(prices, name) }));
  const common = (i: number) => Number.isFinite(position[i]!) && rules.every((r) => Number.isFinite(r.z[i]!));
  const masked = (z: Float32Array) => z.map((v, i) => (common(i) ? v : Number.NaN));
  const model = strip(run(masked(position)));
  const baselines = rules.map((r) => ({ name: r.name, metrics: strip(run(masked(r.z))) }));
  return {
    start: b.dates[0]!,
    end: b.dates.at(-1)!,
    symbols: b.symbols,
    costBps: o.costBps ?? 0,
    model,
    baselines,
    beatenBy: baselines.filter((x) => x.metrics.sharpe > model.sharpe).map((x) => x.name),
  };
}
