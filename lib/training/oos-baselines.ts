/**
 * The simple rules on the run's out-of-sample days: long-only, TSMOM 21/63/126/252 and MACD, backtested on
 * exactly the folds' test ranges with the model's labels, volatility scaling and costs, so the model's OOS
 * Sharpe is read beside what a one-line rule earned on the same days.
 */
import { BASELINES, baselinePositions, type BaselineName } from '../strategy/baselines.js';
import { backtest, metricsFromReturns, type StrategyMetrics } from './backtest.js';
import type { DayRange } from './folds.js';
import type { WalkForwardPlan } from './walk-forward-plan.js';

export type BaselineMetrics = Omit<StrategyMetrics, 'returns'>;

export interface OosBaseline {
  name: BaselineName;
  /** One entry per fold, in fold order. */
  folds: BaselineMetrics[];
  /** Over every fold's test range, concatenated in time (as the model's overall OOS). */
  overall: BaselineMetrics;
}

export function oosBaselines(plan: Pick<WalkForwardPlan, 'prices' | 'labels' | 'config'>, tests: readonly DayRange[]): OosBaseline[] {
  const { prices, labels } = plan;
  const dims = { assets: prices.symbols.length, days: prices.dates.length };
  return BASELINES.map((name) => {
    const position = baselinePositions(prices, name);
    const folds = tests.map((t) =>
      backtest({ ...labels, ...dims, position, start: t.start, end: t.end, costBps: plan.config.training.costBps }),
    );
    const all = Float64Array.from(folds.flatMap((f) => Array.from(f.returns)));
    const turnover = folds.length ? folds.reduce((a, f) => a + f.turnover, 0) / folds.length : 0;
    return { name, folds: folds.map(withoutReturns), overall: withoutReturns(metricsFromReturns(all, turnover)) };
  });
}

/** The rules whose overall OOS Sharpe beats the model's, best first. */
export function rulesBeatingModel(baselines: readonly OosBaseline[], modelSharpe: number): OosBaseline[] {
  return baselines.filter((b) => b.overall.sharpe > modelSharpe).sort((a, b) => b.overall.sharpe - a.overall.sharpe);
}

function withoutReturns(m: StrategyMetrics): BaselineMetrics {
  const { returns: _returns, ...rest } = m;
  return rest;
}
