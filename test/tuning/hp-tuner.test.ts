/**
 * The HPTuner on real (small) walk-forward runs: parameters land at their config paths, the head count is
 * repaired instead of wasting a trial, folds are the pruner's steps, the best parameters train into a
 * checkpoint carrying hpTuning and study.json; and `tft-native tune` end to end (resume, a taken name).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { CheckpointManager } from '../../lib/checkpoint/index.js';
import { syntheticDataset } from '../../lib/data/index.js';
import { InvalidArgumentError, SchemaError } from '../../lib/errors.js';
import { resolveTrainingConfig } from '../../lib/training/config.js';
import { HPTuner, loadStudy, resolveTuningConfig, TrialState, trainTunedModel, type TuningEvent } from '../../lib/tuning/index.js';
import { runCli, spawnCli } from '../helpers/cli.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'tft-hptuner-'));
const hasOptuna = spawnSync('/usr/bin/python3', ['-c', 'import optuna'], { stdio: 'ignore' }).status === 0;

const searchSpace = {
  d_hidden: { path: 'model.dHidden', choices: [8, 12, 16] },
  n_heads: { path: 'model.nHeads', choices: [2, 4, 8] },
  lr: { path: 'training.learningRate', low: 1e-3, high: 1e-2, log: true },
  position_smooth: { path: 'training.positionSmooth', low: 0, high: 0.5 },
};
const baseConfig = (root: string, over: Record<string, unknown> = {}) =>
  resolveTrainingConfig({
    model: { dHidden: 8, nHeads: 2, seqLen: 10, seed: 1 },
    training: { pretrainEpochs: 3, finetuneEpochs: 1, maxWindowsPerEpoch: 256, batchSize: 32 },
    folds: { count: 3, testDays: 120, validationDays: 120 },
    output: { checkpointRoot: root },
    tuning: {
      studyName: 'small',
      nTrials: 6,
      nFoldsPerTrial: 2,
      pretrainEpochs: 1,
      finetuneEpochs: 1,
      sampler: { nStartupTrials: 3 },
      pruner: { nStartupTrials: 2 },
      searchSpace,
    },
    ...over,
  });
const dataset = () => {
  const ds = syntheticDataset({ seed: 3, symbols: 4, days: 900, informative: 3, noise: 3, duplicates: 0, nanRate: 0, signalStrength: 0.6 });
  return { prices: ds.panel, features: ds.features };
};

describe('HPTuner', () => {
  it('puts each parameter at its path with the abbreviated budget, and repairs a head count that does not divide dHidden', () => {
    const tuner = new HPTuner({ config: baseConfig(tmp()) });
    const { config, repaired } = tuner.trialConfig({ d_hidden: 12, n_heads: 8, lr: 0.005, position_smooth: 0.3 });
    expect(config.model.dHidden).toBe(12);
    expect(config.model.nHeads).toBe(6);
    expect(repaired).toEqual({ 'model.nHeads': 6 });
    expect(config.training.learningRate).toBe(0.005);
    expect(config.training.positionSmooth).toBe(0.3);
    expect(config.folds.count).toBe(2);
    expect([config.training.pretrainEpochs, config.training.finetuneEpochs]).toEqual([1, 1]);
    expect(config.output.saveCheckpoint).toBe(false);
    expect(tuner.trialConfig({ d_hidden: 16, n_heads: 8, lr: 0.005, position_smooth: 0 }).repaired).toEqual({});
  });

  it('rejects search spaces that name no config field or are malformed', () => {
    const tuner = new HPTuner({ config: baseConfig(tmp(), {}) });
    expect(() =>
      new HPTuner({ config: baseConfig(tmp(), { tuning: { searchSpace: { x: { path: 'model.nope', low: 0, high: 1 } } } }) }).trialConfig({
        x: 0.5,
      }),
    ).toThrow(SchemaError);
    expect(() =>
      new HPTuner({
        config: baseConfig(tmp(), { tuning: { searchSpace: { x: { path: '__proto__.polluted', low: 0, high: 1 } } } }),
      }).trialConfig({ x: 0.5 }),
    ).toThrow(InvalidArgumentError);
    expect(() => tuner.trialConfig({ unknown: 1 })).toThrow(InvalidArgumentError);
    expect(() => resolveTuningConfig({ searchSpace: { lr: { path: 'training.learningRate', low: 0, high: 1, log: true } } })).toThrow(
      SchemaError,
    );
    expect(() => resolveTuningConfig({ searchSpace: { lr: { path: 'training.learningRate', low: 2, high: 1 } } })).toThrow(SchemaError);
    expect(resolveTuningConfig({}).searchSpace.n_context).toEqual({ path: 'model.nContext', choices: [8, 16, 32] });
  });

  it('tunes over walk-forward folds (folds as steps), then trains the best parameters into a checkpoint with hpTuning and study.json', async () => {
    const root = tmp();
    const events: TuningEvent[] = [];
    const ds = dataset();
    const tuner = new HPTuner({ config: baseConfig(root), dataset: ds, onEvent: (e) => events.push(e) });
    const r = await tuner.tune();
    expect(r.trials.length).toBe(6);
    const complete = r.trials.filter((t) => t.state === 'COMPLETE');
    expect(complete.length).toBeGreaterThan(0);
    for (const t of complete) {
      expect(t.foldValues.length).toBe(2);
      expect(t.value).toBeCloseTo((t.foldValues[0]! + t.foldValues[1]!) / 2, 12);
    }
    for (const t of r.trials.filter((x) => x.state === 'PRUNED')) expect(t.foldValues.length).toBeLessThan(2);
    expect(r.bestValue).toBe(Math.max(...complete.map((t) => t.value!)));
    expect(events.filter((e) => e.type === 'fold-end').length).toBe(r.trials.reduce((a, t) => a + t.foldValues.length, 0));
    expect(events.filter((e) => e.type === 'trial-end').length).toBe(6);
    // The study lives in the default journal, readable by Optuna too.
    const journal = path.join(root, 'studies', 'small.log');
    const study = await loadStudy({ studyName: 'small', storage: journal });
    expect((await study.refresh()).map((t) => t.state).filter((s) => s === TrialState.COMPLETE).length).toBe(complete.length);
    if (hasOptuna) {
      const py = spawnSync('/usr/bin/python3', [path.resolve('reference/optuna_interop.py'), 'read', journal], { encoding: 'utf8' });
      expect((JSON.parse(py.stdout) as { best: { number: number } }[])[0]!.best.number).toBe(r.bestTrial);
    }
    const best = { ...r, bestConfig: { ...r.bestConfig, training: { ...r.bestConfig.training, pretrainEpochs: 1, finetuneEpochs: 1 } } };
    const { training, checkpoint } = await trainTunedModel(best, { dataset: ds });
    training.model.dispose();
    expect(training.config.model.dHidden).toBe(r.bestParams.d_hidden);
    const loaded = await new CheckpointManager(root).load(checkpoint!);
    expect(loaded.metadata.hpTuning).toEqual({ bestParams: r.bestParams, bestValue: r.bestValue });
    expect(loaded.metadata.inputSpec!.positionSizing.smoothing).toBe(r.bestParams.position_smooth);
    expect((loaded.study as { trials: unknown[] }).trials.length).toBe(6);
    loaded.model.dispose();
  });
});

/** A small run config for the CLI tests (one fold per trial, one epoch each phase), its tuning section merged in. */
function writeRunConfig(root: string, tuning: Record<string, unknown>): string {
  const config = path.join(root, 'run.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      model: { dHidden: 8, nHeads: 2, seqLen: 10 },
      training: { maxWindowsPerEpoch: 128, pretrainEpochs: 1, finetuneEpochs: 1 },
      folds: { testDays: 120, validationDays: 120 },
      tuning: { nFoldsPerTrial: 1, pretrainEpochs: 1, finetuneEpochs: 1, searchSpace, ...tuning },
    }),
  );
  return config;
}

describe('tft-native tune', () => {
  it('runs a study, resumes it with more trials, and refuses to overwrite it without --resume', async () => {
    const root = tmp();
    const config = writeRunConfig(root, { studyName: 'cli', sampler: { nStartupTrials: 2 } });
    const common = ['tune', '--config', config, '--symbols', 'AA,IBM,KO', '--start', '1994-01-01', '--out', root, '--no-progress'];
    const first = await runCli([...common, '--trials', '2', '--no-train']);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/study 'cli' \(journal:.*cli\.log\): 2 trials/);
    expect(first.err).toMatch(/trial 1 (complete|pruned|fail)/);
    const again = await runCli([...common, '--trials', '3', '--no-train']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists.*\[ERR_CONFLICT\]/);
    const resumed = await runCli([...common, '--trials', '3', '--resume', '--json']);
    expect(resumed.code, resumed.err).toBe(0);
    const json = JSON.parse(resumed.out) as { trials: unknown[]; checkpoint: string; bestParams: Record<string, unknown> };
    expect(json.trials.length).toBe(3);
    const meta = JSON.parse(readFileSync(path.join(json.checkpoint, 'metadata.json'), 'utf8')) as { hpTuning: { bestParams: unknown } };
    expect(meta.hpTuning.bestParams).toEqual(json.bestParams);
  });

  it('--workers 2 runs two processes on one study: every trial once, both workers contribute', async () => {
    const root = tmp();
    const config = writeRunConfig(root, { studyName: 'par', pruner: { type: 'none' } });
    const r = await spawnCli([
      'tune',
      '--config',
      config,
      '--symbols',
      'AA,IBM,KO',
      '--start',
      '1994-01-01',
      '--out',
      root,
      '--workers',
      '2',
      '--trials',
      '6',
      '--no-train',
      '--no-progress',
    ]);
    expect(r.code, r.err).toBe(0);
    const study = await loadStudy({ studyName: 'par', storage: path.join(root, 'studies', 'par.log') });
    const trials = await study.refresh();
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials.every((t) => t.state === TrialState.COMPLETE)).toBe(true);
    const pids = new Set(trials.map((t) => (t.systemAttrs['tft_native:worker'] as { pid: number }).pid));
    expect(pids.size).toBe(2);
    expect(r.out).toMatch(/6 trials, 6 complete/);
  });
});
