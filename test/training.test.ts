import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  CancelledError,
  DisposedError,
  InvalidArgumentError,
  NonFiniteError,
  OutOfRangeError,
  SchemaError,
  ShapeError,
  TFTModel,
  Trainer,
  backtest,
  loadTrainingConfig,
  planFolds,
  resolveTrainingConfig,
  syntheticDataset,
  trainWalkForward,
  withOverrides,
  type StepProgress,
  type TrainingResult,
} from '../lib/index.js';

const dates = (n: number) => Array.from({ length: n }, (_, i) => `d${String(i).padStart(5, '0')}`);

describe('walk-forward fold plan', () => {
  it('leaves a gap of horizon + longest lookback before every validation and test range', () => {
    for (const scheme of ['expanding', 'sliding'] as const) {
      const folds = planFolds({
        dates: dates(3000),
        count: 4,
        testDays: 200,
        validationDays: 120,
        scheme,
        trainDays: 700,
        horizon: 1,
        maxLookback: 252,
        window: 63,
      });
      expect(folds).toHaveLength(4);
      for (const f of folds) {
        expect(f.gap).toBe(253);
        // a window ending on day t carries labels up to t + horizon: none may reach the next range
        expect(f.train.end + 1).toBeLessThan(f.validation.start - 252);
        expect(f.validation.end + 1).toBeLessThan(f.test.start - 252);
        expect(f.train.start).toBeGreaterThanOrEqual(252 + 63 - 1);
        if (scheme === 'sliding') expect(f.train.end - f.train.start + 1).toBeLessThanOrEqual(700);
      }
      // consecutive, non-overlapping test blocks ending before the last (label-less) day
      for (let k = 1; k < folds.length; k++) expect(folds[k]!.test.start).toBe(folds[k - 1]!.test.end + 1);
      expect(folds.at(-1)!.test.end).toBe(3000 - 2);
    }
  });
  it('refuses plans the panel is too short for, saying why', () => {
    expect(() =>
      planFolds({ dates: dates(900), count: 3, testDays: 252, validationDays: 126, horizon: 1, maxLookback: 252, window: 63 }),
    ).toThrow(/too few/);
    expect(() =>
      planFolds({ dates: dates(900), count: 0, testDays: 252, validationDays: 126, horizon: 1, maxLookback: 0, window: 63 }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      planFolds({
        dates: dates(900),
        count: 1,
        testDays: 50,
        validationDays: 50,
        scheme: 'sliding',
        horizon: 1,
        maxLookback: 0,
        window: 5,
      }),
    ).toThrow(/trainDays/);
  });
});

describe('backtest metrics', () => {
  it('match a hand computation', () => {
    // 2 assets x 4 days; positions and labels chosen so each day's mean return is known
    const position = new Float32Array([1, 1, -1, Number.NaN, 0.5, 0.5, 0.5, 0.5]);
    const target = new Float32Array([0.01, -0.02, -0.01, 0.05, 0.02, 0.02, -0.02, 0.0]);
    const m = backtest({ position, target, assets: 2, days: 4, start: 0, end: 3 });
    const daily = [(0.01 + 0.01) / 2, (-0.02 + 0.01) / 2, (0.01 - 0.01) / 2, 0];
    expect(Array.from(m.returns)).toEqual(daily.map((x) => expect.closeTo(x, 7)));
    const mean = daily.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(daily.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
    expect(m.sharpe).toBeCloseTo((Math.sqrt(252) * mean) / sd, 6);
    expect(m.totalReturn).toBeCloseTo(1.01 * 0.995 * 1 * 1 - 1, 6);
    expect(m.maxDrawdown).toBeCloseTo(1 - (1.01 * 0.995) / 1.01, 6);
    // turnover: asset 0 |1-1|, |-1-1|; asset 1 zero changes → mean over 5 measured changes = 2/5
    expect(m.turnover).toBeCloseTo(2 / 5, 6);
    const withCost = backtest({ position, target, assets: 2, days: 4, start: 0, end: 3, costBps: 10 });
    expect(withCost.returns[2]).toBeCloseTo(daily[2]! - (10e-4 * 2) / 2, 7);
  });
});

describe('Trainer', () => {
  const ds = syntheticDataset({ seed: 4, symbols: 3, days: 300, informative: 2, noise: 2, duplicates: 0, nanRate: 0 });
  const F = ds.features.names.length;
  const target = Float32Array.from({ length: 3 * 300 }, (_, i) => Math.sin(i) * 0.01);
  const panel = { features: ds.features.values, assets: 3, days: 300, target };

  it('reports progress on every step and can be cancelled between steps', async () => {
    const model = TFTModel.create({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: 10 });
    const trainer = new Trainer(model, panel, { batchSize: 16 });
    const windows = trainer.validWindows(0, 299);
    expect(windows.size).toBe(3 * (300 - 9));
    const steps: StepProgress[] = [];
    // Progress reaches JS asynchronously, possibly after the epoch's promise: wait for the last step. The
    // native queue holds 16 updates, more than this epoch's 10 steps, so none is dropped.
    let lastStepArrived!: () => void;
    const lastStep = new Promise<void>((resolve) => (lastStepArrived = resolve));
    const onStep = (p: StepProgress) => {
      steps.push(p);
      if (p.step === p.steps) lastStepArrived();
    };
    const stats = await trainer.trainEpoch(windows.sample(160, 1), { onStep });
    expect(stats.steps).toBe(10);
    expect(stats.windows).toBe(160);
    expect(stats.gradients.length).toBeGreaterThan(10);
    expect(stats.gradients.every((g) => Number.isFinite(g.norm) && g.meanAbs >= 0)).toBe(true);
    await lastStep;
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(steps.every((s) => s.steps === 10 && Number.isFinite(s.loss))).toBe(true);
    const ac = new AbortController();
    ac.abort();
    await expect(trainer.trainEpoch(windows, { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    // aborting while the epoch runs stops it between steps
    const running = new AbortController();
    const job = trainer.trainEpoch(windows, { signal: running.signal, onStep: () => running.abort() });
    await expect(job).rejects.toBeInstanceOf(CancelledError);
    trainer.dispose();
    expect(() => trainer.validWindows(0, 10)).toThrow(DisposedError);
  });

  it('rejects bad options and windows with typed errors', async () => {
    const model = TFTModel.create({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: 10 });
    expect(() => new Trainer(model, { ...panel, features: panel.features.subarray(1) })).toThrow(ShapeError);
    expect(() => new Trainer(model, panel, { lossMode: 'mse' as 'sharpe' })).toThrow(InvalidArgumentError);
    expect(() => new Trainer(model, panel, { warmupSteps: 10 })).toThrow(/warmupSteps/);
    expect(() => new Trainer(model, panel, { costBps: 5 })).toThrow(/scale/);
    expect(() => new Trainer(model, panel, { learningRate: 0 })).toThrow(InvalidArgumentError);
    const trainer = new Trainer(model, panel);
    const { WindowSet } = await import('../lib/training/trainer.js');
    await expect(trainer.trainEpoch(new WindowSet(new Int32Array([5, 20])))).rejects.toBeInstanceOf(OutOfRangeError);
    const nanTarget = Float32Array.from(target);
    nanTarget[15] = Number.NaN;
    const t2 = new Trainer(model, { ...panel, target: nanTarget });
    await expect(t2.trainEpoch(new WindowSet(new Int32Array([0, 20])))).rejects.toBeInstanceOf(NonFiniteError);
    expect(t2.validWindows(0, 299).size).toBe(3 * 291 - 10);
  });
});

describe('run progress (the CLI ETA)', () => {
  it('counts steps over every fold, takes early-stopped epochs off the total, and projects the pace so far', async () => {
    const { TrainingProgress } = await import('../lib/training/training-progress.js');
    const tc = resolveTrainingConfig({
      training: { pretrainEpochs: 2, finetuneEpochs: 2, maxWindowsPerEpoch: 100, batchSize: 10 },
    }).training;
    let now = 0;
    const p = new TrainingProgress(tc, () => now);
    const folds = planFolds({ dates: dates(3000), count: 2, testDays: 200, validationDays: 120, horizon: 1, maxLookback: 10, window: 10 });
    const stats = { loss: 0, sharpe: 0, nll: 0, steps: 10, windows: 100, gradNorm: 0, seconds: 1, gradients: [] };
    const evalStats = { loss: 0, sharpe: 0, nll: 0, windows: 50 };
    const stepOfFirstEpoch = (step: number) =>
      ({
        type: 'step',
        fold: 0,
        phase: 'pretrain',
        epoch: 0,
        progress: { step, steps: 10, loss: 0, sharpe: 0, learningRate: 1e-3 },
      }) as const;
    p.update({ type: 'plan', folds });
    expect(p.etaSeconds()).toBeUndefined();
    p.update({ type: 'fold-start', fold: 0, trainWindows: 250, validationWindows: 50, epochWindows: 100 });
    // 2 folds x (2 + 2) epochs x 100 sampled windows / 10 per batch
    expect(p.stepsTotal).toBe(80);
    p.update({ type: 'phase-start', fold: 0, phase: 'pretrain', epochs: 2, learningRate: 1e-3 });
    now = 5000;
    p.update(stepOfFirstEpoch(5));
    expect(p.stepsDone).toBe(5);
    expect(p.etaSeconds()).toBeCloseTo(75, 9); // 1 s per step, 75 steps left
    const epoch = {
      type: 'epoch',
      fold: 0,
      phase: 'pretrain',
      epoch: 0,
      epochs: 2,
      train: stats,
      validation: evalStats,
      improved: false,
      best: true,
    } as const;
    p.update(epoch);
    // a progress update of the finished epoch arriving late is not counted again
    p.update(stepOfFirstEpoch(10));
    expect(p.stepsDone).toBe(10);
    p.update({ type: 'early-stop', fold: 0, phase: 'pretrain', epoch: 0, bestValidationLoss: 0 });
    expect(p.stepsTotal).toBe(70);
    // a fold with fewer windows than the sample size trains on all of them
    p.update({ type: 'fold-start', fold: 1, trainWindows: 45, validationWindows: 50, epochWindows: 45 });
    expect(p.stepsTotal).toBe(10 + 4 * 5);
  });
});

describe('training config', () => {
  it('loads YAML with defaults, applies overrides, and names the bad field', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-config-'));
    const file = path.join(dir, 'run.yaml');
    writeFileSync(file, 'model:\n  dHidden: 48\ntraining:\n  lossMode: joint_mle\n  mleWeight: 0.2\nfolds:\n  count: 2\n');
    const c = loadTrainingConfig(file);
    expect(c.model.dHidden).toBe(48);
    expect(c.model.seqLen).toBe(63);
    expect(c.training.lossMode).toBe('joint_mle');
    expect(withOverrides(c, { folds: { count: 5 } }).folds.count).toBe(5);
    writeFileSync(file, 'training:\n  lossMode: mse\n');
    expect(() => loadTrainingConfig(file)).toThrow(/training\.lossMode/);
    writeFileSync(file, 'model:\n  unknownField: 1\n');
    expect(() => loadTrainingConfig(file)).toThrow(SchemaError);
    writeFileSync(file, 'model: [\n');
    expect(() => loadTrainingConfig(file)).toThrow(/not valid YAML/);
  });
});

// The planted-signal tests below train this small model on a synthetic panel.
const plantedConfig = resolveTrainingConfig({
  model: { dHidden: 16, nHeads: 2, seqLen: 21, dropout: 0.1, seed: 3 },
  // Every overlapping window: this few epochs of non-overlapping ones would barely train.
  training: { pretrainEpochs: 4, finetuneEpochs: 2, maxWindowsPerEpoch: 2048, warmupSteps: 5, learningRate: 3e-3, windowStride: 1 },
  folds: { count: 2, testDays: 150, validationDays: 100 },
  output: { saveCheckpoint: false },
});

/** Each feature's VSN weight averaged over the folds, and the feature names by that average, largest first. */
function foldAveragedVsn(r: TrainingResult, names: readonly string[]): { averaged: Map<string, number>; order: string[] } {
  const averaged = new Map(names.map((n) => [n, 0]));
  for (const f of r.folds) for (const w of f.vsnImportance) averaged.set(w.name, averaged.get(w.name)! + w.weight / r.folds.length);
  const order = [...averaged].sort((a, b) => b[1] - a[1]).map(([n]) => n);
  return { averaged, order };
}

describe('evidence that it learns (planted signal)', () => {
  for (const seed of [11, 12]) {
    it(`OOS Sharpe clearly beats zero on a synthetic panel (seed ${seed}), deterministically`, async ({ annotate }) => {
      const ds = syntheticDataset({
        seed,
        symbols: 8,
        days: 1200,
        informative: 3,
        noise: 8,
        duplicates: 2,
        nanRate: 0.01,
        signalStrength: 0.2,
      });
      const events: string[] = [];
      const r = await trainWalkForward({
        config: plantedConfig,
        dataset: { prices: ds.panel, features: ds.features },
        onEvent: (e) => events.push(e.type),
      });
      expect(r.folds).toHaveLength(2);
      // Recorded with the test for a reader: OOS Sharpe per fold, and where the planted features land in the
      // VSN ranking (per fold, and averaged over folds), out of F features.
      const F = ds.features.names.length;
      const { order } = foldAveragedVsn(r, ds.features.names);
      const rank = (names: readonly string[], n: string) => names.indexOf(n) + 1;
      await annotate(
        `planted signal (seed ${seed}): OOS Sharpe per fold ${r.folds.map((f) => f.oos.sharpe.toFixed(2)).join(', ')}, overall ${r.oos.sharpe.toFixed(2)}; ` +
          `VSN ranks of the ${ds.truth.informative.length} informative features (of ${F}) per fold ` +
          r.folds
            .map((f) =>
              ds.truth.informative
                .map((n) =>
                  rank(
                    f.vsnImportance.map((w) => w.name),
                    n,
                  ),
                )
                .join('/'),
            )
            .join(', ') +
          `, averaged over folds ${ds.truth.informative.map((n) => rank(order, n)).join('/')}; their duplicates ${Object.keys(
            ds.truth.duplicates,
          )
            .map((n) => rank(order, n))
            .join('/')}`,
      );
      for (const f of r.folds) expect(f.oos.sharpe).toBeGreaterThan(1);
      expect(r.oos.sharpe).toBeGreaterThan(1.5);
      expect(events).toContain('plan');
      expect(events.filter((e) => e === 'fold-end')).toHaveLength(2);
      expect(events).toContain('epoch');
      const again = await trainWalkForward({ config: plantedConfig, dataset: { prices: ds.panel, features: ds.features } });
      expect(again.oos.sharpe).toBe(r.oos.sharpe);
      expect(again.folds[1]!.vsnImportance).toEqual(r.folds[1]!.vsnImportance);
      r.model.dispose();
      again.model.dispose();
    });
  }
});

// The VSN weights are the feature selector's primary signal: on a panel whose returns depend on two planted
// features among ten noise ones, the strongest planted feature must get the largest fold-averaged VSN weight
// and every clearly informative one (|β| ≥ 0.15) a top-3 weight. A random ranking passes with probability
// below 1/12 per seed; seeds 11–15 all pass, and on seed 16, whose two planted features have nearly equal
// |β| (0.22 and 0.20), those two take the top two weights in swapped order.
describe('the planted features get the highest VSN weights', () => {
  for (const seed of [11, 14]) {
    it(`seed ${seed}`, async ({ annotate }) => {
      const ds = syntheticDataset({
        seed,
        symbols: 8,
        days: 2000,
        informative: 2,
        noise: 10,
        duplicates: 0,
        nanRate: 0.01,
        signalStrength: 0.3,
      });
      const r = await trainWalkForward({ config: plantedConfig, dataset: { prices: ds.panel, features: ds.features } });
      const { averaged, order } = foldAveragedVsn(r, ds.features.names);
      const beta = ds.truth.coefficients;
      const planted = [...ds.truth.informative].sort((a, b) => Math.abs(beta[b]!) - Math.abs(beta[a]!));
      await annotate(
        `VSN ranking (seed ${seed}): OOS Sharpe ${r.oos.sharpe.toFixed(2)}; planted features by |β| ` +
          planted.map((n) => `${n} (β ${beta[n]!.toFixed(3)}) rank ${order.indexOf(n) + 1}`).join(', ') +
          ` of ${order.length}; fold-averaged weights ${order
            .slice(0, 4)
            .map((n) => `${n} ${averaged.get(n)!.toFixed(4)}`)
            .join(', ')} …`,
      );
      expect(order[0]).toBe(planted[0]);
      for (const n of planted) if (Math.abs(beta[n]!) >= 0.15) expect(order.indexOf(n)).toBeLessThan(3);
      r.model.dispose();
    });
  }
});
