/** Hyperparameter tuning: an Optuna-compatible study (TPE, median pruning, journal storage) and the TFT HPTuner. */
export * from './distributions.js';
export {
  TrialState,
  stateName,
  type Direction as StudyDirectionName,
  type FrozenTrial,
  type StudyRecord,
  type TrialStateName,
} from './frozen-trial.js';
export {
  createStudy,
  loadStudy,
  Study,
  type CreateStudyOptions,
  type Objective,
  type OptimizeOptions,
  type StudyCallback,
} from './study.js';
export { Trial, TrialPruned } from './trial.js';
export { TPESampler, defaultGamma, type TPESamplerOptions } from './samplers/tpe-sampler.js';
export { RandomSampler } from './samplers/random-sampler.js';
export { defaultWeights } from './samplers/parzen-estimator.js';
export type { Sampler, StudyView } from './samplers/sampler.js';
export { MedianPruner, NopPruner, PercentilePruner, type Pruner, type PercentilePrunerOptions } from './pruners/median-pruner.js';
export { JournalStorage } from './storage/journal-storage.js';
export { openStorage, type StorageSpec } from './storage/open-storage.js';
export type { StudyStorage, NewTrial } from './storage/storage.js';
export {
  DEFAULT_SEARCH_SPACE,
  resolveTuningConfig,
  TuningConfigSchema,
  type SearchParam,
  type TuningConfig,
  type TuningConfigInput,
} from './tuning-config.js';
export { applyParams, distributionOf, suggestParams, type AppliedParams } from './tft-search-space.js';
export {
  defaultStoragePath,
  HPTuner,
  makePruner,
  makeSampler,
  tuningTrial,
  type HPTunerOptions,
  type TuningEvent,
  type TuningResult,
  type TuningTrial,
} from './hp-tuner.js';
export { runWorkers, threadsPerWorker, WORKER_EVENT_PREFIX, type WorkerLaunch } from './parallel-workers.js';
export { formatTrialLine, formatTuningSummary } from './tuning-format.js';
export { studySummary, trainTunedModel } from './tuned-checkpoint.js';
