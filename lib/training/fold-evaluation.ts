/**
 * Evaluating a trained fold: the VSN weight of every feature over the validation windows (the feature
 * selector's primary signal) and out-of-sample strategy metrics from rolling prediction over the test range.
 */
import { sizePositions } from '../inference/position-sizing.js';
import { backtest, type StrategyMetrics } from './backtest.js';
import type { FoldSession, WindowSpan } from './fold-session.js';
import { predictTestPositions } from './oos-prediction.js';
import { HORIZON, type WalkForwardPlan } from './walk-forward-plan.js';

export interface FeatureWeight {
  name: string;
  group: string;
  weight: number;
}

export interface FoldEvaluation {
  /** VSN weight per feature, averaged over the fold's validation windows; sorted descending. */
  vsnImportance: FeatureWeight[];
  /** Out-of-sample metrics over the test range (daily returns included). */
  oos: StrategyMetrics;
  /** What the OOS test read: one window per (asset, test day) that got a position. */
  test: WindowSpan;
}

export async function evaluateFold(plan: WalkForwardPlan, session: FoldSession): Promise<FoldEvaluation> {
  const { config, features, labels } = plan;
  const { fold } = session;
  const dims = { assets: plan.prices.symbols.length, days: plan.prices.dates.length, features: features.names.length };
  const weights = await session.trainer.vsnImportance(session.validationWindows);
  const vsnImportance = features.names
    .map((name, i) => ({ name, group: features.groups[i]!, weight: weights[i]! }))
    .sort((a, b) => b.weight - a.weight);
  const raw = await predictTestPositions(session, dims, config.model.contextRefreshDays);
  const smoothing = config.training.positionSmooth;
  const position =
    smoothing > 0 ? sizePositions(raw, dims.assets, dims.days, { maxPosition: config.model.maxPosition, volTarget: null, smoothing }) : raw;
  const oos = backtest({
    ...labels,
    position,
    assets: dims.assets,
    days: dims.days,
    start: fold.test.start,
    end: fold.test.end,
    costBps: config.training.costBps,
  });
  return { vsnImportance, oos, test: testSpan(position, dims.assets, dims.days, session) };
}

function testSpan(position: Float32Array, A: number, D: number, session: FoldSession): WindowSpan {
  const { test } = session.fold;
  let windows = 0;
  for (let a = 0; a < A; a++) for (let d = test.start; d <= test.end; d++) if (Number.isFinite(position[a * D + d]!)) windows++;
  return {
    windows,
    firstEnd: test.start,
    lastEnd: test.end,
    firstDay: Math.max(0, test.start - session.window + 1),
    lastLabelDay: test.end + HORIZON,
  };
}
