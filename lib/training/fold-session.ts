/**
 * One fold set up for training: features normalised with statistics from the days its training windows
 * read (and nothing later), a fresh model, a native trainer over the whole panel, and the fold's training
 * and validation windows. Training (fold-training.ts) and evaluation (fold-evaluation.ts) both work on it.
 */
import { InvalidArgumentError } from '../errors.js';
import { applyNormalization, fitNormalization, type Normalization } from '../data/normalization.js';
import { TFTModel } from '../model/tft-model.js';
import { trainerSeed } from './fold-seeds.js';
import type { Fold } from './folds.js';
import { Trainer, type WindowSet } from './trainer.js';
import type { WalkForwardPlan } from './walk-forward-plan.js';

export interface FoldSession {
  fold: Fold;
  /** Window length T. */
  window: number;
  normalization: Normalization;
  /** [assets, days, features], normalised: what the trainer and rolling prediction read. */
  features: Float32Array;
  assets: number;
  days: number;
  /** One id per asset when the model has entities. */
  entityIds: Int32Array | undefined;
  model: TFTModel;
  trainer: Trainer;
  trainWindows: WindowSet;
  validationWindows: WindowSet;
}

/**
 * The windows a range actually used, each identified by its last day (a window ending on day t reads
 * features on days t - seqLen + 1 … t and labels up to t + horizon). From the window sets handed to the
 * native trainer and to rolling prediction, not from the plan.
 */
export interface WindowSpan {
  windows: number;
  /** First and last window end day. */
  firstEnd: number;
  lastEnd: number;
  /** First day whose features a window reads. */
  firstDay: number;
  /** Last day a window's labels reach (lastEnd + horizon). */
  lastLabelDay: number;
}

/**
 * Fails (InvalidArgumentError on 'folds') when the training or validation range has no complete window.
 * The caller owns the result: closeFold releases the trainer, and the model unless it is kept.
 */
export function prepareFold(plan: WalkForwardPlan, fold: Fold): FoldSession {
  const { config, features, prices, labels } = plan;
  const A = prices.symbols.length;
  const T = config.model.seqLen;
  const normalization = fitNormalization(features, { startDay: Math.max(0, fold.train.start - T + 1), endDay: fold.train.end + 1 });
  const normalized = applyNormalization(features, normalization, { clip: config.features.clip }).values;
  const entityIds = config.model.useEntities ? Int32Array.from({ length: A }, (_, i) => i) : undefined;
  const model = createModel(plan, fold);
  let trainer: Trainer | undefined;
  try {
    const tc = config.training;
    trainer = new Trainer(
      model,
      { features: normalized, assets: A, days: prices.dates.length, target: labels.target, scale: labels.scale, entityIds },
      {
        learningRate: tc.learningRate,
        weightDecay: tc.weightDecay,
        clipNorm: tc.clipNorm,
        batchSize: tc.batchSize,
        window: T,
        contextLen: config.model.nContext > 0 ? config.model.contextLen : undefined,
        seed: trainerSeed(tc.seed, fold.index),
        lossMode: tc.lossMode,
        mleWeight: tc.mleWeight,
        warmupSteps: Math.min(tc.warmupSteps, T - 1),
        costBps: tc.costBps,
      },
    );
    const trainWindows = trainer.validWindows(fold.train.start, fold.train.end);
    const validationWindows = trainer.validWindows(fold.validation.start, fold.validation.end);
    if (trainWindows.size === 0 || validationWindows.size === 0) {
      throw new InvalidArgumentError(
        `fold ${fold.index}: no complete ${T}-day windows with finite features and labels in the ${trainWindows.size === 0 ? 'training' : 'validation'} range`,
        'folds',
      );
    }
    return {
      fold,
      window: T,
      normalization,
      features: normalized,
      assets: A,
      days: prices.dates.length,
      entityIds,
      model,
      trainer,
      trainWindows,
      validationWindows,
    };
  } catch (e) {
    trainer?.dispose();
    model.dispose();
    throw e;
  }
}

/** Releases the fold's trainer, and its model unless `keepModel` (the run keeps the last fold's). */
export function closeFold(session: FoldSession, keepModel: boolean): void {
  session.trainer.dispose();
  if (!keepModel) session.model.dispose();
}

function createModel(plan: WalkForwardPlan, fold: Fold): TFTModel {
  const m = plan.config.model;
  return TFTModel.create(
    {
      nFeatures: plan.features.names.length,
      dHidden: m.dHidden,
      nHeads: m.nHeads,
      lstmLayers: m.lstmLayers,
      dropout: m.dropout,
      seqLen: m.seqLen,
      nContext: m.nContext,
      maxPosition: m.maxPosition,
      nEntities: m.useEntities ? plan.prices.symbols.length : 0,
      seed: m.seed + fold.index,
    },
    { device: m.device },
  );
}

/** What the window sets read: every window together (e.g. every sampled epoch of a fold). */
export function windowSpan(windows: readonly WindowSet[], T: number, horizon: number): WindowSpan {
  let n = 0;
  let firstEnd = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const w of windows) {
    n += w.size;
    for (let i = 1; i < w.pairs.length; i += 2) {
      firstEnd = Math.min(firstEnd, w.pairs[i]!);
      lastEnd = Math.max(lastEnd, w.pairs[i]!);
    }
  }
  return { windows: n, firstEnd, lastEnd, firstDay: firstEnd - T + 1, lastLabelDay: lastEnd + horizon };
}
