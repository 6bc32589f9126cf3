/** What `tft-native train` prints beside the model: the validation Sharpe's noise and the simple rules on the OOS days. */
import { describe, expect, it } from 'vitest';

import { syntheticPrices } from '../../lib/data/index.js';
import { backtest, metricsFromReturns } from '../../lib/training/backtest.js';
import { resolveTrainingConfig } from '../../lib/training/config.js';
import { oosBaselines, rulesBeatingModel } from '../../lib/training/oos-baselines.js';
import { VALIDATION_SE_LIMIT, validationNoise } from '../../lib/training/validation-noise.js';
import { trainingLabels } from '../../lib/training/walk-forward-plan.js';
import { baselinePositions } from '../../lib/strategy/baselines.js';
import { randn } from '../helpers/random.js';

/** [assets, days] labels: a common factor with weight √ρ plus independent noise, so the pairwise correlation is ρ. */
function correlatedLabels(A: number, D: number, rho: number, seed: number): Float32Array {
  const common = randn(D, seed);
  const own = randn(A * D, seed + 1000);
  const out = new Float32Array(A * D);
  for (let a = 0; a < A; a++)
    for (let d = 0; d < D; d++) out[a * D + d] = Math.sqrt(rho) * common[d]! + Math.sqrt(1 - rho) * own[a * D + d]!;
  return out;
}

describe('validationNoise', () => {
  it("is Lo's standard error over the (asset, day) observations for independent assets", () => {
    const A = 12;
    const D = 2000;
    const n = validationNoise({ target: correlatedLabels(A, D, 0, 1) }, A, D, { start: 1000, end: 1125 });
    expect(n.days).toBe(126);
    expect(n.observations).toBe(126 * 12);
    expect(Math.abs(n.meanCorrelation)).toBeLessThan(0.05);
    expect(n.sharpeStandardError).toBeCloseTo(Math.sqrt(252 / n.effectiveObservations), 10);
    expect(n.sharpeStandardError).toBeGreaterThan(0.38);
    expect(n.sharpeStandardError).toBeLessThan(0.48);
    // Lo's (1 + SR²/2) term at a validation Sharpe of 3
    const at3 = validationNoise({ target: correlatedLabels(A, D, 0, 1) }, A, D, { start: 1000, end: 1125 }, 3);
    expect(at3.sharpeStandardError / n.sharpeStandardError).toBeCloseTo(Math.sqrt(1 + 9 / 252 / 2), 10);
  });

  it('counts assets that move together as fewer observations (design effect of ρ̄)', () => {
    const A = 12;
    const D = 3000;
    const n = validationNoise({ target: correlatedLabels(A, D, 0.5, 2) }, A, D, { start: 0, end: 2999 });
    expect(n.meanCorrelation).toBeGreaterThan(0.45);
    expect(n.meanCorrelation).toBeLessThan(0.55);
    expect(n.effectiveObservations).toBeCloseTo(n.observations / (1 + 11 * n.meanCorrelation), 6);
    // 126 days of 12 assets that are one asset: about √(252/126) = 1.41, far beyond what can choose epochs
    const same = validationNoise({ target: correlatedLabels(A, D, 1, 3) }, A, D, { start: 0, end: 125 });
    expect(same.meanCorrelation).toBeCloseTo(1, 6);
    expect(same.sharpeStandardError).toBeCloseTo(Math.SQRT2, 2);
    expect(same.reliable).toBe(false);
    expect(VALIDATION_SE_LIMIT).toBe(0.5);
  });

  it('skips missing labels and handles a single asset', () => {
    const target = correlatedLabels(1, 300, 0, 4);
    target[10] = Number.NaN;
    const n = validationNoise({ target }, 1, 300, { start: 0, end: 299 });
    expect(n.observations).toBe(299);
    expect(n.meanCorrelation).toBe(0);
    expect(n.sharpeStandardError).toBeCloseTo(Math.sqrt(252 / 299), 10);
  });
});

describe('oosBaselines', () => {
  const prices = syntheticPrices({ seed: 5, symbols: 4, days: 900, process: { kind: 'trend', regimeDays: 63, sharpe: 3 } });
  const config = resolveTrainingConfig({ training: { costBps: 2 } });
  const labels = trainingLabels(prices, config.targets);
  const tests = [
    { start: 500, end: 649, startDate: prices.dates[500]!, endDate: prices.dates[649]! },
    { start: 650, end: 898, startDate: prices.dates[650]!, endDate: prices.dates[898]! },
  ];

  it('backtests every rule on exactly the test ranges, with the run’s labels and costs', () => {
    const bs = oosBaselines({ prices, labels, config }, tests);
    expect(bs.map((b) => b.name)).toEqual(['long-only', 'tsmom-21', 'tsmom-63', 'tsmom-126', 'tsmom-252', 'macd']);
    const tsmom63 = bs.find((b) => b.name === 'tsmom-63')!;
    const position = baselinePositions(prices, 'tsmom-63');
    const dims = { assets: 4, days: 900 };
    const direct = tests.map((t) => backtest({ ...labels, ...dims, position, start: t.start, end: t.end, costBps: 2 }));
    expect(tsmom63.folds.map((f) => f.sharpe)).toEqual(direct.map((f) => f.sharpe));
    expect(tsmom63.folds[0]!.days).toBe(150);
    const all = metricsFromReturns(Float64Array.from([...direct[0]!.returns, ...direct[1]!.returns]), 0);
    expect(tsmom63.overall.sharpe).toBeCloseTo(all.sharpe, 12);
    expect(tsmom63.overall).not.toHaveProperty('returns');
    // a planted trend: the 63-day rule earns clearly more than long-only
    expect(tsmom63.overall.sharpe).toBeGreaterThan(1);
  });

  it('names the rules that beat the model, best first', () => {
    const bs = oosBaselines({ prices, labels, config }, tests);
    const sorted = [...bs].sort((a, b) => b.overall.sharpe - a.overall.sharpe);
    expect(rulesBeatingModel(bs, Number.NEGATIVE_INFINITY).map((b) => b.name)).toEqual(sorted.map((b) => b.name));
    expect(rulesBeatingModel(bs, sorted[0]!.overall.sharpe)).toEqual([]);
    expect(rulesBeatingModel(bs, sorted[1]!.overall.sharpe).map((b) => b.name)).toEqual([sorted[0]!.name]);
  });
});
