import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  CudaUnavailableError,
  DataError,
  FeatureBuilder,
  SchemaError,
  Trainer,
  applyNormalization,
  buildTargets,
  capabilities,
  fitNormalization,
  resolveTrainingConfig,
  syntheticDataset,
  trainWalkForward,
  type TrainingConfig,
  type TrainingEvent,
  type TrainingResult,
} from '../lib/index.js';
import { runCli } from './helpers/cli.js';

const hasCuda = capabilities().torchCudaDevices > 0;

/** The validation loss of the run's final (last fold's) model, recomputed from scratch on the fold's validation windows. */
async function finalValidationLoss(r: TrainingResult, ds: ReturnType<typeof syntheticDataset>): Promise<number> {
  const fold = r.folds.at(-1)!;
  const A = ds.panel.symbols.length;
  const normalized = applyNormalization(ds.features, fold.normalization, { clip: r.config.features.clip });
  const targets = buildTargets(ds.panel, { horizons: [1], volSpan: r.config.targets.volSpan, sigmaTarget: r.config.targets.sigmaTarget });
  const trainer = new Trainer(
    r.model,
    {
      features: normalized.values,
      assets: A,
      days: ds.panel.dates.length,
      target: targets.scaledNextDayReturn,
      entityIds: Array.from({ length: A }, (_, i) => i),
    },
    {
      window: r.config.model.seqLen,
      lossMode: r.config.training.lossMode,
      mleWeight: r.config.training.mleWeight,
      warmupSteps: r.config.training.warmupSteps,
    },
  );
  try {
    return (await trainer.evaluate(trainer.validWindows(fold.fold.validation.start, fold.fold.validation.end))).loss;
  } finally {
    trainer.dispose();
  }
}

describe('early stopping', () => {
  const ds = syntheticDataset({ seed: 5, symbols: 4, days: 400, informative: 2, noise: 3, duplicates: 0, nanRate: 0, signalStrength: 0.2 });
  // A learning rate this large overshoots within a few epochs; with patience 1 the first worse epoch stops the phase.
  const config = (finetuneLrScale: number) =>
    resolveTrainingConfig({
      model: { dHidden: 8, nHeads: 2, seqLen: 10, dropout: 0, seed: 1 },
      training: {
        pretrainEpochs: 6,
        finetuneEpochs: 6,
        maxWindowsPerEpoch: 256,
        batchSize: 32,
        warmupSteps: 2,
        learningRate: 0.05,
        patience: 1,
        finetuneLrScale,
      },
      folds: { count: 1, testDays: 60, validationDays: 60 },
      output: { saveCheckpoint: false },
    });
  const run = async (c: TrainingConfig) => {
    const events: TrainingEvent[] = [];
    const r = await trainWalkForward({
      config: c,
      dataset: { prices: ds.panel, features: ds.features },
      onEvent: (e) => e.type !== 'step' && events.push(e),
    });
    return { r, events };
  };

  it('stops each phase after `patience` worse epochs and keeps the weights of the best epoch over both phases', async ({ annotate }) => {
    const { r, events } = await run(config(1));
    const fold = r.folds[0]!;
    const stops = events.filter((e) => e.type === 'early-stop');
    expect(stops.map((e) => e.phase)).toEqual(['pretrain', 'finetune']);
    for (const phase of ['pretrain', 'finetune'] as const) {
      const epochs = fold.epochs.filter((e) => e.phase === phase);
      expect(epochs.length).toBeLessThan(6);
      // patience 1: the stopping epoch is the first that did not beat the phase's best
      expect(epochs.at(-1)!.improved).toBe(false);
      expect(epochs.slice(0, -1).every((e) => e.improved)).toBe(true);
    }
    const losses = fold.epochs.map((e) => e.validationLoss);
    const best = Math.min(...losses);
    expect(fold.bestValidationLoss).toBe(best);
    const bestIndex = losses.indexOf(best);
    expect(fold.bestEpoch).toEqual({ phase: fold.epochs[bestIndex]!.phase, epoch: fold.epochs[bestIndex]!.epoch });
    expect(fold.epochs.filter((e) => e.best).at(-1)).toBe(fold.epochs[bestIndex]);
    // the last epoch trained was worse: the final weights are the best epoch's only if they were restored
    expect(losses.at(-1)!).toBeGreaterThan(best);
    const recomputed = await finalValidationLoss(r, ds);
    await annotate(
      `early stopping: validation losses ${losses.map((l) => l.toFixed(4)).join(', ')}; best ${best.toFixed(6)}, final model ${recomputed.toFixed(6)}`,
    );
    expect(Math.abs(recomputed - best)).toBeLessThanOrEqual(1e-6);
    const restores = events.filter((e) => e.type === 'restore');
    expect(restores.map((e) => e.phase)).toEqual(['pretrain', 'finetune']);
    r.model.dispose();
  });

  it('starts finetuning from the best pretrained weights, not the last', async () => {
    // A finetune learning rate of ~1e-11 leaves the weights where the phase started, so its first
    // validation loss is the validation loss of the starting weights.
    const { r } = await run(config(2e-10));
    const fold = r.folds[0]!;
    const pretrain = fold.epochs.filter((e) => e.phase === 'pretrain');
    const bestPretrain = Math.min(...pretrain.map((e) => e.validationLoss));
    expect(pretrain.at(-1)!.validationLoss).toBeGreaterThan(bestPretrain + 1e-3);
    const firstFinetune = fold.epochs.find((e) => e.phase === 'finetune')!;
    expect(Math.abs(firstFinetune.validationLoss - bestPretrain)).toBeLessThanOrEqual(1e-5);
    r.model.dispose();
  });
});

describe('weight averaging over the finetune phase (training.averageWeights)', () => {
  const ds = syntheticDataset({ seed: 6, symbols: 4, days: 400, informative: 2, noise: 3, duplicates: 0, nanRate: 0, signalStrength: 0.2 });
  const config = (averageWeights: boolean) =>
    resolveTrainingConfig({
      model: { dHidden: 8, nHeads: 2, seqLen: 10, dropout: 0, seed: 3 },
      training: {
        pretrainEpochs: 2,
        finetuneEpochs: 3,
        maxWindowsPerEpoch: 128,
        batchSize: 32,
        warmupSteps: 2,
        patience: 1,
        averageWeights,
      },
      folds: { count: 1, testDays: 60, validationDays: 60 },
      output: { saveCheckpoint: false },
    });

  it('keeps the mean of every finetune epoch’s weights, trains all of them, and reports its validation loss', async () => {
    // Patience 1 would stop a plain finetune phase at its first worse epoch; averaging trains every epoch.
    const events: TrainingEvent[] = [];
    const r = await trainWalkForward({
      config: config(true),
      dataset: { prices: ds.panel, features: ds.features },
      onEvent: (e) => e.type !== 'step' && events.push(e),
    });
    const fold = r.folds[0]!;
    expect(fold.epochs.filter((e) => e.phase === 'finetune')).toHaveLength(3);
    expect(events.some((e) => e.type === 'early-stop' && e.phase === 'finetune')).toBe(false);
    expect(fold.bestEpoch).toEqual({ phase: 'finetune', epoch: 2, averaged: 3 });
    const recomputed = await finalValidationLoss(r, ds);
    expect(Math.abs(recomputed - fold.bestValidationLoss)).toBeLessThanOrEqual(1e-6);
    // the same run without averaging ends on one epoch's weights: a different model from the same streams
    const plain = await trainWalkForward({ config: config(false), dataset: { prices: ds.panel, features: ds.features } });
    expect(plain.folds[0]!.bestEpoch!.averaged).toBeUndefined();
    const a = r.model.stateDict();
    const b = plain.model.stateDict();
    const name = [...a.keys()][0]!;
    expect(Array.from(a.get(name)!.data)).not.toEqual(Array.from(b.get(name)!.data));
    r.model.dispose();
    plain.model.dispose();
  });
});

describe('walk-forward windows and normalisation', () => {
  // Real features (RSI, longest lookback 63) on synthetic prices, so the purge gap is more than the horizon.
  const ds = syntheticDataset({ seed: 8, symbols: 3, days: 520, informative: 1, noise: 1, duplicates: 0, nanRate: 0 });
  const features = new FeatureBuilder({ groups: ['rsi'] }).build(ds.panel);
  const config = resolveTrainingConfig({
    model: { dHidden: 8, nHeads: 2, seqLen: 10, seed: 2 },
    training: { pretrainEpochs: 2, finetuneEpochs: 1, maxWindowsPerEpoch: 128, warmupSteps: 2, windowStride: 1 },
    folds: { count: 2, testDays: 40, validationDays: 30 },
    output: { saveCheckpoint: false },
  });

  it('trains on windows whose labels end before the test range minus the gap, with statistics from the training days only', async () => {
    const r = await trainWalkForward({ config, dataset: { prices: ds.panel, features } });
    expect(r.maxLookback).toBe(63);
    for (const f of r.folds) {
      const { train, validation, test } = f.windows;
      expect(f.fold.gap).toBe(64);
      // 2 + 1 epochs of 128 sampled windows, all inside the planned training range
      expect(train.windows).toBe((2 + 1) * 128);
      expect(train.firstEnd).toBeGreaterThanOrEqual(f.fold.train.start);
      expect(train.lastEnd).toBeLessThanOrEqual(f.fold.train.end);
      // every label a training window carries lies before the test range and its gap
      expect(train.lastLabelDay).toBeLessThan(f.fold.test.start - f.fold.gap);
      expect(train.lastLabelDay).toBeLessThan(validation.firstDay);
      expect(validation.lastLabelDay).toBeLessThan(test.firstDay);
      expect(validation.lastEnd).toBeLessThanOrEqual(f.fold.validation.end);
      expect(test.firstEnd).toBe(f.fold.test.start);
      expect(test.windows).toBe(3 * 40);
      // normalisation statistics from the days the training windows read, and no later day
      expect(f.normalization.startDay).toBe(Math.max(0, f.fold.train.start - 9));
      expect(f.normalization.endDay).toBe(f.fold.train.end + 1);
      expect(f.normalization.endDay).toBeLessThanOrEqual(validation.firstDay);
      const refit = fitNormalization(features, { startDay: f.normalization.startDay, endDay: f.normalization.endDay });
      expect(Array.from(f.normalization.means)).toEqual(Array.from(refit.means));
    }
    // changing every feature after a fold's training range leaves its normalisation as it was
    const cut = r.folds[0]!.windows.train.lastEnd;
    const moved = { ...features, values: Float32Array.from(features.values) };
    const D = features.dates.length;
    const F = features.names.length;
    for (let s = 0; s < 3; s++)
      for (let d = cut + 1; d < D; d++)
        for (let k = 0; k < F; k++) moved.values[(s * D + d) * F + k] = 1000 + 7 * moved.values[(s * D + d) * F + k]!;
    const again = await trainWalkForward({ config, dataset: { prices: ds.panel, features: moved } });
    expect(Array.from(again.folds[0]!.normalization.means)).toEqual(Array.from(r.folds[0]!.normalization.means));
    expect(Array.from(again.folds[0]!.normalization.stds)).toEqual(Array.from(r.folds[0]!.normalization.stds));
    expect(Array.from(again.folds[1]!.normalization.means)).not.toEqual(Array.from(r.folds[1]!.normalization.means));
    r.model.dispose();
    again.model.dispose();
  });
});

describe('configuration errors come before any data is read', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tft-wf-'));
  const missing = path.join(dir, 'missing.csv');

  it('model fields are checked with the model bounds when the YAML is parsed (SchemaError naming the field)', async () => {
    const { loadTrainingConfig } = await import('../lib/index.js');
    const file = path.join(dir, 'bad-model.yaml');
    for (const [yaml, field] of [
      ['model:\n  dHidden: 5000\n  nHeads: 4\n', 'model.dHidden'],
      ['model:\n  dHidden: 30\n  nHeads: 4\n', 'model.nHeads'],
      ['model:\n  lstmLayers: 17\n', 'model.lstmLayers'],
      ['model:\n  maxPosition: .inf\n', 'model.maxPosition'],
      ['model:\n  nFeatures: 3\n', 'model.nFeatures'],
      ['model:\n  device: tpu\n', 'model.device'],
    ] as const) {
      writeFileSync(file, `data:\n  path: ${JSON.stringify(missing)}\n${yaml}`);
      let err: unknown;
      try {
        loadTrainingConfig(file);
      } catch (e) {
        err = e;
      }
      expect(err, yaml).toBeInstanceOf(SchemaError);
      expect((err as SchemaError).argument).toBe(field);
      expect((err as Error).message).toContain(field);
    }
    // through the CLI: the config error is reported, not the data file that does not exist
    writeFileSync(file, 'model:\n  dHidden: 30\n  nHeads: 4\n');
    const r = await runCli(['train', '--config', file, '--data', missing, '--no-checkpoint']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/model\.nHeads: dHidden must be divisible by nHeads.*\[ERR_SCHEMA\]/);
    expect(r.err).not.toMatch(/missing\.csv/);
  });

  it('a hand-built config is validated again by trainWalkForward', async () => {
    const good = resolveTrainingConfig({ data: { path: missing } });
    const bad = { ...good, model: { ...good.model, dHidden: 4097 } };
    await expect(trainWalkForward({ config: bad })).rejects.toThrow(SchemaError);
    await expect(trainWalkForward({ config: bad })).rejects.toThrow(/model\.dHidden/);
  });

  it.skipIf(hasCuda)('model.device cuda without CUDA is a CudaUnavailableError, from the API and the CLI', async () => {
    const config = resolveTrainingConfig({ data: { path: missing }, model: { device: 'cuda' } });
    const err = await trainWalkForward({ config }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CudaUnavailableError);
    expect((err as CudaUnavailableError).argument).toBe('model.device');
    expect((err as Error).message).toMatch(/CUDA/);
    const r = await runCli(['train', '--device', 'cuda', '--data', missing, '--no-checkpoint']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/model\.device: .*\[ERR_CUDA_UNAVAILABLE\]/);
    const unknown = await runCli(['train', '--device', 'tpu', '--no-checkpoint']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/model\.device.*\[ERR_SCHEMA\]/);
  });

  it.runIf(hasCuda)('model.device cuda trains and predicts on the GPU', async () => {
    const ds = syntheticDataset({ seed: 5, symbols: 3, days: 300, informative: 2, noise: 2, duplicates: 0, nanRate: 0 });
    const config = resolveTrainingConfig({
      model: { dHidden: 8, nHeads: 2, seqLen: 10, device: 'cuda' },
      training: { pretrainEpochs: 1, finetuneEpochs: 1, maxWindowsPerEpoch: 128, warmupSteps: 2 },
      folds: { count: 1, testDays: 40, validationDays: 40 },
      output: { saveCheckpoint: false },
    });
    const r = await trainWalkForward({ config, dataset: { prices: ds.panel, features: ds.features } });
    expect(r.model.device).toBe('cuda');
    expect(Number.isFinite(r.folds[0]!.oos.sharpe)).toBe(true);
    r.model.dispose();
  });
});

describe('too little history', () => {
  it('names the symbol, the file and its rows (DataError) from the API and from the CLIs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-short-'));
    const file = path.join(dir, 'prices.csv');
    const rows = ['date,symbol,close'];
    const start = Date.UTC(2010, 0, 4);
    for (const [symbol, n] of [
      ['LONG', 400],
      ['SHORT', 40],
    ] as const) {
      for (let i = 0; i < n; i++)
        rows.push(`${new Date(start + i * 86_400_000).toISOString().slice(0, 10)},${symbol},${(100 + Math.sin(i)).toFixed(2)}`);
    }
    writeFileSync(file, rows.join('\n') + '\n');
    // default features: longest lookback 252, so SHORT's 40 rows (file rows 402–441; 45 listed days with the
    // forward fill after its last row) are too few
    const config = resolveTrainingConfig({ data: { path: file }, output: { saveCheckpoint: false } });
    const err = await trainWalkForward({ config }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).argument).toBe('SHORT');
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/rows 402–441/);
    expect((err as Error).message).toMatch(/too little history: .* is 45, 253 needed/);
    const train = await runCli(['train', '--data', file, '--no-checkpoint']);
    expect(train.code).toBe(1);
    expect(train.err).toMatch(/prices\.csv: rows 402–441, column 'symbol': symbol 'SHORT' has too little history.*\[ERR_DATA\]/);
    const features = await runCli(['data', 'features', '--data', file, '--groups', 'rsi']);
    expect(features.code).toBe(1);
    expect(features.err).toMatch(/rows 402–441.*'SHORT'.* is 45, 64 needed.*\[ERR_DATA\]/);
    const allowed = await runCli(['data', 'features', '--data', file, '--groups', 'rsi', '--allow-short-history']);
    expect(allowed.code).toBe(0);
  });
});

describe('X-Trend context sets in walk-forward training', () => {
  const ds = syntheticDataset({ seed: 8, symbols: 5, days: 700, informative: 2, noise: 4, duplicates: 0, nanRate: 0, signalStrength: 0.3 });
  const config = resolveTrainingConfig({
    model: { dHidden: 8, nHeads: 2, seqLen: 15, dropout: 0, seed: 2, nContext: 3, contextLen: 10, contextRefreshDays: 30 },
    training: { pretrainEpochs: 3, finetuneEpochs: 1, maxWindowsPerEpoch: 512, batchSize: 32, warmupSteps: 3, learningRate: 3e-3 },
    folds: { count: 2, testDays: 100, validationDays: 80 },
    output: { saveCheckpoint: false },
  });
  it('trains and predicts out of sample with contexts, deterministically, and learns the planted signal', async ({ annotate }) => {
    const r = await trainWalkForward({ config, dataset: { prices: ds.panel, features: ds.features } });
    expect(r.model.config.nContext).toBe(3);
    for (const f of r.folds) {
      // Every test day of every asset got a position (a context set exists before every block).
      expect(f.windows.test.windows).toBe(5 * (f.fold.test.end - f.fold.test.start + 1));
      expect(Number.isFinite(f.oos.sharpe)).toBe(true);
    }
    await annotate(`X-Trend walk-forward: OOS Sharpe per fold ${r.folds.map((f) => f.oos.sharpe.toFixed(2)).join(', ')}`);
    expect(r.oos.sharpe).toBeGreaterThan(1);
    const again = await trainWalkForward({ config, dataset: { prices: ds.panel, features: ds.features } });
    expect(again.oos.sharpe).toBe(r.oos.sharpe);
    r.model.dispose();
    again.model.dispose();
  });
  it('validates the context options', () => {
    expect(() => resolveTrainingConfig({ model: { nContext: -1 } })).toThrow(SchemaError);
    expect(() => resolveTrainingConfig({ model: { contextRefreshDays: 0 } })).toThrow(/model.contextRefreshDays/);
  });
});
