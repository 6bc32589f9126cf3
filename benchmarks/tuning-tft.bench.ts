/**
 * `npm run bench:tuning-tft`: does tuning help the TFT on a planted panel, judged on days the tuner never
 * saw? For each synthetic panel (lib/data/synthetic.ts: next-day returns depend on a few AR(1) features):
 *
 * 1. the HPTuner tunes on the panel without its last `holdout` days (configs/tuning.yaml's search space,
 *    TPE + median pruning, 2 folds per trial);
 * 2. the default config and the tuned config are then each trained walk-forward on the whole panel with one
 *    fold whose test range is exactly the held-out days, and their OOS Sharpe compared there;
 * 3. beside them, the tuner's own (optimistic) value, and long-only and TSMOM-63 on the same held-out days.
 *
 *   --panels N    synthetic panels (default 2)    --trials N    trials per study (default 10)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { syntheticDataset, type FeaturePanel, type PricePanel } from '../lib/data/index.js';
import { loadTrainingConfig, resolveTrainingConfig, withOverrides, type TrainingConfig } from '../lib/training/config.js';
import { trainWalkForward } from '../lib/training/walk-forward.js';
import { HPTuner } from '../lib/tuning/index.js';
import { baselinePositions, type BaselineName } from '../lib/strategy/baselines.js';
import { backtest } from '../lib/training/backtest.js';
import { trainingLabels } from '../lib/training/walk-forward-plan.js';
import { printMachine } from './machine.js';
import { intFlag } from './stats.js';

const args = process.argv.slice(2);
const panels = intFlag(args, '--panels', 2);
const trials = intFlag(args, '--trials', 10);
const HOLDOUT = 200;
const ROOT = path.resolve(import.meta.dirname, '..');

function sliceDays(prices: PricePanel, features: FeaturePanel, days: number): { prices: PricePanel; features: FeaturePanel } {
  const D = prices.dates.length;
  const F = features.names.length;
  const A = prices.symbols.length;
  const rows = <T extends Float64Array | Uint8Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(A * days);
    for (let s = 0; s < A; s++) out.set(a.subarray(s * D, s * D + days), s * days);
    return out;
  };
  const values = new Float32Array(A * days * F);
  for (let s = 0; s < A; s++) values.set(features.values.subarray(s * D * F, (s * D + days) * F), s * days * F);
  return {
    prices: {
      ...prices,
      dates: prices.dates.slice(0, days),
      close: rows(prices.close),
      listed: rows(prices.listed),
      filled: rows(prices.filled),
    },
    features: { ...features, dates: features.dates.slice(0, days), values },
  };
}

/** A baseline's Sharpe on the held-out days, on the same X-Trend labels the model is scored on. */
function baselineSharpe(prices: PricePanel, name: BaselineName, range: { start: number; end: number }): number {
  const labels = trainingLabels(prices, resolveTrainingConfig({}).targets);
  const position = baselinePositions(prices, name);
  return backtest({ ...labels, position, assets: prices.symbols.length, days: prices.dates.length, ...range }).sharpe;
}

async function holdoutSharpe(config: TrainingConfig, dataset: { prices: PricePanel; features: FeaturePanel }) {
  const run = await trainWalkForward({
    config: withOverrides(config, { folds: { count: 1, testDays: HOLDOUT }, output: { saveCheckpoint: false } }),
    dataset,
  });
  run.model.dispose();
  const { start, end } = run.folds[0]!.fold.test;
  return { sharpe: run.oos.sharpe, range: { start, end } };
}

printMachine();
const base = withOverrides(loadTrainingConfig(path.join(ROOT, 'configs/tuning.yaml')), {
  model: { seqLen: 21 },
  training: { maxWindowsPerEpoch: 1024, pretrainEpochs: 4, finetuneEpochs: 2 },
  folds: { testDays: 150, validationDays: 150 },
  tuning: { nTrials: trials, pretrainEpochs: 2, finetuneEpochs: 1 },
});
const defaults = withOverrides(resolveTrainingConfig({}), { model: { seqLen: 21 }, training: base.training, folds: base.folds });
process.stdout.write(`${panels} planted panels × ${trials} trials; held-out test: the last ${HOLDOUT} days\n\n`);
process.stdout.write(
  'panel  tuner value (tuning folds)  default config (held out)  tuned config (held out)  long-only  TSMOM-63  seconds\n',
);
for (let p = 0; p < panels; p++) {
  const t0 = performance.now();
  const ds = syntheticDataset({
    seed: 100 + p,
    symbols: 8,
    days: 1800,
    informative: 4,
    noise: 12,
    duplicates: 0,
    nanRate: 0,
    signalStrength: 0.25,
  });
  const full = { prices: ds.panel, features: ds.features };
  const tuningData = sliceDays(ds.panel, ds.features, ds.panel.dates.length - HOLDOUT);
  const root = mkdtempSync(path.join(tmpdir(), 'tft-bench-tune-'));
  const config = withOverrides(base, { output: { checkpointRoot: root }, tuning: { studyName: `planted-${p}` } });
  const result = await new HPTuner({ config, dataset: tuningData }).tune();
  await result.study.storage.close();
  const tuned = await holdoutSharpe(result.bestConfig, full);
  const dflt = await holdoutSharpe(withOverrides(defaults, { output: { checkpointRoot: root } }), full);
  const longOnly = baselineSharpe(ds.panel, 'long-only', dflt.range);
  const tsmom = baselineSharpe(ds.panel, 'tsmom-63', dflt.range);
  process.stdout.write(
    `${String(p).padEnd(7)}${result.bestValue.toFixed(2).padStart(26)}${dflt.sharpe.toFixed(2).padStart(27)}${tuned.sharpe.toFixed(2).padStart(25)}${longOnly.toFixed(2).padStart(11)}${tsmom.toFixed(2).padStart(10)}${((performance.now() - t0) / 1000).toFixed(0).padStart(9)}\n`,
  );
  process.stdout.write(`       best params: ${JSON.stringify(result.bestParams)}\n`);
}
