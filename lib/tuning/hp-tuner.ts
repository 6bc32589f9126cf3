/**
 * HPTuner: the seed's tuner for the TFT / X-Trend. Each trial samples the search space (TPE by default),
 * trains the most recent `nFoldsPerTrial` walk-forward folds with the abbreviated budget, reports each
 * fold's out-of-sample Sharpe as a step (so the median pruner can stop a trial after any fold) and returns
 * their mean. The study lives in a storage (an Optuna journal file by default), so a tuning run resumes
 * after a crash and several processes or machines can share it.
 *
 * The objective reads the test years of the folds it trains: the best trial's Sharpe is optimistic, and an
 * honest estimate of the tuned configuration needs later data (or a final walk-forward on more folds).
 *
 * Cost: trials × folds × (pretrain + finetune epochs) × windows per epoch, less what pruning saves.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { assertSafeName } from '../io/safe-path.js';
import { mixSeed } from '../random/index.js';
import type { TrainingConfig } from '../training/config.js';
import { runFold, type FoldResult } from '../training/walk-forward.js';
import type { RunContext } from '../training/walk-forward-events.js';
import { planWalkForward, type TrainingDataset } from '../training/walk-forward-plan.js';
import type { ParamValue } from './distributions.js';
import { stateName, TrialState, type FrozenTrial, type TrialStateName } from './frozen-trial.js';
import { MedianPruner, NopPruner, type Pruner } from './pruners/median-pruner.js';
import { RandomSampler } from './samplers/random-sampler.js';
import type { Sampler } from './samplers/sampler.js';
import { TPESampler } from './samplers/tpe-sampler.js';
import { openStorage, type StorageSpec } from './storage/open-storage.js';
import { createStudy, type Study } from './study.js';
import { applyParams, suggestParams } from './tft-search-space.js';
import { TrialPruned, type Trial } from './trial.js';
import type { TuningConfig } from './tuning-config.js';

export type TuningEvent =
  | { type: 'trial-start'; trial: number; params: Record<string, ParamValue>; repaired: Record<string, number> }
  | { type: 'fold-end'; trial: number; step: number; of: number; sharpe: number; seconds: number }
  | { type: 'trial-end'; trial: TuningTrial; best: { number: number; value: number } | null; pruned: number; finished: number };

export interface HPTunerOptions {
  /** The base run: data, features, folds and everything not in the search space; config.tuning the tuner's settings. */
  config: TrainingConfig;
  /** The data, read once for every trial; otherwise from config.data. */
  dataset?: TrainingDataset;
  /** Overrides config.tuning.storage. */
  storage?: StorageSpec;
  /**
   * create (default): a new study, failing when the name is taken; resume: continue it, failing and
   * re-queuing the trials of dead workers first; join: work on it beside other live workers.
   */
  mode?: 'create' | 'resume' | 'join';
  /** This worker's index among parallel workers: its sampler draws from its own seed stream. */
  workerIndex?: number;
  onEvent?: (e: TuningEvent) => void;
  /** Training events of each trial's folds (progress bars). */
  onTraining?: RunContext['onEvent'];
  signal?: AbortSignal;
}

export interface TuningTrial {
  number: number;
  state: TrialStateName;
  params: Record<string, ParamValue>;
  /** Mean OOS Sharpe over the trial's folds (COMPLETE), the last fold's (PRUNED), or null. */
  value: number | null;
  /** OOS Sharpe of each fold the trial trained, oldest first. */
  foldValues: number[];
  /** Fields repaired to satisfy the model's constraints (e.g. model.nHeads). */
  repaired: Record<string, number>;
  seconds: number | null;
}

export interface TuningResult {
  studyName: string;
  storage: string;
  bestParams: Record<string, ParamValue>;
  bestValue: number;
  bestTrial: number;
  trials: TuningTrial[];
  /** The base config with the best parameters applied (the full training budget, not the abbreviated one). */
  bestConfig: TrainingConfig;
  study: Study;
}

/** Where a study lives when neither the caller nor the config says: <checkpointRoot>/studies/<name>.log. */
export function defaultStoragePath(config: TrainingConfig): string {
  const dir = path.join(config.output.checkpointRoot, 'studies');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${assertSafeName(config.tuning.studyName, 'tuning.studyName')}.log`);
}

/**
 * The sampler of one worker. Its seed is tuning.seed for the first worker of a new study; other workers,
 * and runs that resume a study holding `trialsBefore` trials, draw from their own streams, so no worker
 * repeats another's (or an earlier run's) random start-up points.
 */
export function makeSampler(t: TuningConfig, workerIndex = 0, trialsBefore = 0): Sampler {
  const seed = workerIndex === 0 && trialsBefore === 0 ? t.seed : mixSeed(t.seed, workerIndex, trialsBefore);
  if (t.sampler.type === 'random') return new RandomSampler({ seed });
  const { nStartupTrials, nEiCandidates, multivariate, constantLiar } = t.sampler;
  return new TPESampler({ seed, nStartupTrials, nEiCandidates, multivariate, constantLiar });
}

export function makePruner(t: TuningConfig): Pruner {
  if (t.pruner.type === 'none') return new NopPruner();
  return new MedianPruner({
    nStartupTrials: t.pruner.nStartupTrials,
    nWarmupSteps: t.pruner.nWarmupSteps,
    intervalSteps: t.pruner.intervalSteps,
  });
}

export class HPTuner {
  readonly #opts: HPTunerOptions;
  #dataset: TrainingDataset | undefined;

  constructor(opts: HPTunerOptions) {
    this.#opts = opts;
    this.#dataset = opts.dataset;
  }

  get config(): TuningConfig {
    return this.#opts.config.tuning;
  }

  /** The configuration a trial trains: the base, its parameters, the tuner's folds and abbreviated epochs. */
  trialConfig(params: Record<string, ParamValue>): { config: TrainingConfig; repaired: Record<string, number> } {
    const t = this.config;
    const { config, repaired } = applyParams(this.#opts.config, t.searchSpace, params);
    return {
      config: {
        ...config,
        folds: { ...config.folds, count: t.nFoldsPerTrial },
        training: { ...config.training, pretrainEpochs: t.pretrainEpochs, finetuneEpochs: t.finetuneEpochs },
        attribution: { ...config.attribution, everyEpochs: 0 },
        output: { ...config.output, saveCheckpoint: false, stabilityDir: undefined },
      },
      repaired,
    };
  }

  async open(): Promise<Study> {
    const t = this.config;
    const storage = await openStorage(this.#opts.storage ?? t.storage ?? `journal:${defaultStoragePath(this.#opts.config)}`);
    const existing = await storage.findStudy(t.studyName);
    const trialsBefore = existing ? (await storage.getTrials(existing.studyId)).length : 0;
    const study = await createStudy({
      studyName: t.studyName,
      storage,
      direction: 'maximize',
      sampler: makeSampler(t, this.#opts.workerIndex, trialsBefore),
      pruner: makePruner(t),
      loadIfExists: (this.#opts.mode ?? 'create') !== 'create',
    });
    if (this.#opts.mode === 'resume') await study.failStaleTrials({ requeue: true });
    return study;
  }

  async tune(opts: { nTrials?: number; timeoutSeconds?: number } = {}): Promise<TuningResult> {
    const t = this.config;
    const study = await this.open();
    await this.#loadData();
    const nTrials = opts.nTrials ?? t.nTrials;
    await study.optimize((trial) => this.#objective(trial), {
      maxTrialsInStudy: nTrials,
      timeout: opts.timeoutSeconds ?? t.timeoutSeconds,
      signal: this.#opts.signal,
      callbacks: [(s, frozen) => this.#trialEnded(s, frozen)],
    });
    return this.result(study);
  }

  /** The study's trials and best parameters as a TuningResult. */
  result(study: Study): TuningResult {
    const best = study.bestTrial;
    return {
      studyName: study.studyName,
      storage: study.storage.description,
      bestParams: { ...best.params },
      bestValue: best.value!,
      bestTrial: best.number,
      trials: study.trials.map(tuningTrial),
      bestConfig: applyParams(this.#opts.config, this.config.searchSpace, best.params).config,
      study,
    };
  }

  async #loadData(): Promise<void> {
    if (this.#dataset) return;
    const touchesFeatures = Object.values(this.config.searchSpace).some((p) => /^(features|data)\./.test(p.path));
    const base = this.#opts.config;
    const plan = await planWalkForward({ config: { ...base, folds: { ...base.folds, count: this.config.nFoldsPerTrial } } });
    this.#dataset = touchesFeatures ? { prices: plan.prices } : { prices: plan.prices, features: plan.features };
  }

  async #objective(trial: Trial): Promise<number> {
    const params = suggestParams(trial, this.config.searchSpace);
    const { config, repaired } = this.trialConfig(params);
    if (Object.keys(repaired).length) await trial.setUserAttr('repaired', repaired);
    this.#opts.onEvent?.({ type: 'trial-start', trial: trial.number, params, repaired });
    const plan = await planWalkForward({ config, dataset: this.#dataset });
    const sharpes: number[] = [];
    for (const [step, fold] of plan.folds.entries()) {
      const t0 = performance.now();
      const { result, model } = await runFold(plan, fold, { onEvent: this.#opts.onTraining, signal: this.#opts.signal });
      model.dispose();
      const sharpe = foldSharpe(result);
      sharpes.push(sharpe);
      await trial.setUserAttr('fold_values', sharpes);
      await trial.report(sharpe, step);
      this.#opts.onEvent?.({
        type: 'fold-end',
        trial: trial.number,
        step,
        of: plan.folds.length,
        sharpe,
        seconds: (performance.now() - t0) / 1000,
      });
      // After the last fold the trial is finished: pruning it then would only discard its result.
      if (step < plan.folds.length - 1 && (await trial.shouldPrune()))
        throw new TrialPruned(`pruned after fold ${step + 1} of ${plan.folds.length}`);
    }
    return sharpes.reduce((a, b) => a + b, 0) / sharpes.length;
  }

  #trialEnded(study: Study, frozen: FrozenTrial): void {
    if (!this.#opts.onEvent) return;
    const done = study.trials.filter((x) => x.state === TrialState.COMPLETE && x.value !== null);
    const best = done.length ? study.bestTrial : null;
    this.#opts.onEvent({
      type: 'trial-end',
      trial: tuningTrial(frozen),
      best: best && { number: best.number, value: best.value! },
      pruned: study.trials.filter((x) => x.state === TrialState.PRUNED).length,
      finished: study.trials.filter((x) => x.state !== TrialState.RUNNING && x.state !== TrialState.WAITING).length,
    });
  }
}

/** A fold's OOS Sharpe; a fold that never traded (no finite Sharpe) scores NaN, which fails the trial. */
function foldSharpe(r: FoldResult): number {
  return Number.isFinite(r.oos.sharpe) ? r.oos.sharpe : Number.NaN;
}

export function tuningTrial(t: FrozenTrial): TuningTrial {
  const start = t.datetimeStart ? Date.parse(t.datetimeStart) : Number.NaN;
  const end = t.datetimeComplete ? Date.parse(t.datetimeComplete) : Number.NaN;
  return {
    number: t.number,
    state: stateName(t.state),
    params: { ...t.params },
    value: t.value,
    foldValues: (t.userAttrs.fold_values as number[] | undefined) ?? [],
    repaired: (t.userAttrs.repaired as Record<string, number> | undefined) ?? {},
    seconds: Number.isFinite(end - start) ? (end - start) / 1000 : null,
  };
}
