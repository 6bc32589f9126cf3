/**
 * Training one fold: a pretrain and a finetune phase with early stopping on the validation loss.
 *
 * Each phase stops after `patience` epochs without beating its own best validation loss; the weights of
 * the fold's best epoch so far are kept, and restored at the end of every phase. So finetuning starts from
 * the best pretrained weights, and the fold's model is the epoch with the lowest validation loss over both
 * phases.
 */
import type { TrainingConfig } from './config.js';
import type { EpochAnalysis, FoldAttribution } from './fold-attribution.js';
import { shuffleSeed, windowSampleSeed } from './fold-seeds.js';
import { windowSpan, type FoldSession, type WindowSpan } from './fold-session.js';
import type { EpochStats, EvalStats, LayerGradient, WindowSet } from './trainer.js';
import { emitter, throwIfCancelled, type Phase, type RunContext } from './walk-forward-events.js';
import { HORIZON } from './walk-forward-plan.js';
import { WeightAverage } from './weight-average.js';

export interface EpochRecord {
  phase: Phase;
  epoch: number;
  trainLoss: number;
  trainSharpe: number;
  validationLoss: number;
  validationSharpe: number;
  learningRate: number;
  seconds: number;
  gradNorm: number;
  gradients: LayerGradient[];
  /** Beat the phase's best validation loss so far (resets patience). */
  improved: boolean;
  /** Beat the fold's best validation loss so far: its weights were kept. */
  best: boolean;
}

export interface BestEpoch {
  phase: Phase;
  epoch: number;
  /** With training.averageWeights: the model is the mean of this many finetune epochs' weights (SWA). */
  averaged?: number;
}

export interface FoldTraining {
  epochs: EpochRecord[];
  /** The fold's model is the one of this epoch: the lowest validation loss over both phases. */
  bestValidationLoss: number;
  bestEpoch: BestEpoch | undefined;
  /** What training read, every sampled epoch together. */
  trained: WindowSpan;
  /** The attribution analyses made while training (config.attribution), oldest first. */
  analyses: EpochAnalysis[];
}

export interface PhasePlan {
  phase: Phase;
  epochs: number;
  learningRate: number;
}

type TrainingOptions = TrainingConfig['training'];

/** The phases that train at all, in order: pretrain at learningRate, then finetune at learningRate × finetuneLrScale. */
export function phasesOf(tc: TrainingOptions): PhasePlan[] {
  const phases: PhasePlan[] = [
    { phase: 'pretrain', epochs: tc.pretrainEpochs, learningRate: tc.learningRate },
    { phase: 'finetune', epochs: tc.finetuneEpochs, learningRate: tc.learningRate * tc.finetuneLrScale },
  ];
  return phases.filter((p) => p.epochs > 0);
}

/** Progress across the fold's phases: what early stopping compares against and what the fold reports. */
interface FoldProgress {
  epochs: EpochRecord[];
  trained: WindowSet[];
  best: number;
  bestEpoch: BestEpoch | undefined;
  /** Epochs trained so far over both phases: numbers each epoch's random streams. */
  epochCounter: number;
}

/** Trains the session's model in place; on return its weights are those of the fold's best epoch. */
export async function trainFold(
  session: FoldSession,
  tc: TrainingOptions,
  ctx: RunContext = {},
  attribution?: FoldAttribution,
): Promise<FoldTraining> {
  emitter(ctx)({
    type: 'fold-start',
    fold: session.fold.index,
    trainWindows: session.trainWindows.size,
    validationWindows: session.validationWindows.size,
    epochWindows: epochWindows(tc, session.trainWindows.size, session.window),
  });
  const progress: FoldProgress = { epochs: [], trained: [], best: Number.POSITIVE_INFINITY, bestEpoch: undefined, epochCounter: 0 };
  for (const phase of phasesOf(tc)) await trainPhase(session, tc, phase, progress, ctx, attribution);
  return {
    epochs: progress.epochs,
    bestValidationLoss: progress.best,
    bestEpoch: progress.bestEpoch,
    trained: windowSpan(progress.trained, session.window, HORIZON),
    analyses: attribution?.analyses ?? [],
  };
}

async function trainPhase(
  session: FoldSession,
  tc: TrainingOptions,
  plan: PhasePlan,
  progress: FoldProgress,
  ctx: RunContext,
  attribution?: FoldAttribution,
): Promise<void> {
  const emit = emitter(ctx);
  const { fold, trainer } = session;
  const { phase, learningRate } = plan;
  trainer.learningRate = learningRate;
  emit({ type: 'phase-start', fold: fold.index, phase, epochs: plan.epochs, learningRate });
  let phaseBest = Number.POSITIVE_INFINITY;
  let stale = 0;
  const average = phase === 'finetune' && tc.averageWeights ? new WeightAverage() : undefined;
  for (let e = 0; e < plan.epochs; e++) {
    throwIfCancelled(ctx.signal);
    const { train, validation } = await trainEpoch(session, tc, phase, e, progress, ctx);
    average?.add(session.model);
    const improved = validation.loss < phaseBest - 1e-9;
    if (improved) {
      phaseBest = validation.loss;
      stale = 0;
    } else {
      stale++;
    }
    const best = validation.loss < progress.best - 1e-9;
    if (best) {
      progress.best = validation.loss;
      progress.bestEpoch = { phase, epoch: e };
      trainer.saveBest();
    }
    progress.epochs.push(epochRecord(phase, e, learningRate, train, validation, improved, best));
    emit({ type: 'epoch', fold: fold.index, phase, epoch: e, epochs: plan.epochs, train, validation, improved, best });
    if (attribution?.due(progress.epochCounter - 1)) {
      const { analysis } = await attribution.analyze(phase, e, train.gradients);
      emit({ type: 'attribution', fold: fold.index, phase, epoch: e, analysis, budgetExhausted: attribution.budgetExhausted });
    }
    if (stale >= tc.patience && !average) {
      emit({ type: 'early-stop', fold: fold.index, phase, epoch: e, bestValidationLoss: phaseBest });
      break;
    }
  }
  if (average && average.count > 0) {
    await keepAverage(session, average, plan, progress, ctx);
  } else if (progress.bestEpoch) {
    trainer.restoreBest();
    emit({ type: 'restore', fold: fold.index, phase, bestValidationLoss: progress.best, bestEpoch: progress.bestEpoch });
  }
}

/**
 * Loads the mean of the phase's weights and makes it the fold's model whatever its validation loss: a
 * validation Sharpe noisier than the differences between epochs is no reason to prefer one epoch to it.
 */
async function keepAverage(session: FoldSession, average: WeightAverage, plan: PhasePlan, progress: FoldProgress, ctx: RunContext) {
  session.model.loadStateDict(average.mean());
  session.trainer.saveBest();
  const validation = await session.trainer.evaluate(session.validationWindows);
  progress.best = validation.loss;
  progress.bestEpoch = { phase: plan.phase, epoch: plan.epochs - 1, averaged: average.count };
  emitter(ctx)({
    type: 'restore',
    fold: session.fold.index,
    phase: plan.phase,
    bestValidationLoss: validation.loss,
    bestEpoch: progress.bestEpoch,
  });
}

/** training.windowStride, with 0 meaning one window per seqLen − warmupSteps days (loss steps that tile the days). */
export function windowStride(tc: TrainingOptions, window: number): number {
  return tc.windowStride > 0 ? tc.windowStride : Math.max(1, window - tc.warmupSteps);
}

/** About how many windows an epoch trains on: a stride's share of the fold's windows, capped by maxWindowsPerEpoch. */
export function epochWindows(tc: TrainingOptions, trainWindows: number, window: number): number {
  const strided = Math.round(trainWindows / windowStride(tc, window));
  return tc.maxWindowsPerEpoch > 0 ? Math.min(tc.maxWindowsPerEpoch, strided) : strided;
}

/** One epoch over a fresh sample of the training windows, then the validation loss. */
async function trainEpoch(
  session: FoldSession,
  tc: TrainingOptions,
  phase: Phase,
  epoch: number,
  progress: FoldProgress,
  ctx: RunContext,
): Promise<{ train: EpochStats; validation: EvalStats }> {
  const emit = emitter(ctx);
  const { fold, trainer } = session;
  const n = progress.epochCounter++;
  const seed = windowSampleSeed(tc.seed, fold.index, n);
  const stride = windowStride(tc, session.window);
  const windows = session.trainWindows.strided(stride, seed % stride);
  const sample = tc.maxWindowsPerEpoch > 0 ? windows.sample(tc.maxWindowsPerEpoch, seed) : windows;
  progress.trained.push(sample);
  const train = await trainer.trainEpoch(sample, {
    shuffleSeed: shuffleSeed(tc.seed, fold.index, n),
    signal: ctx.signal,
    onStep: (p) => emit({ type: 'step', fold: fold.index, phase, epoch, progress: p }),
  });
  const validation = await trainer.evaluate(session.validationWindows);
  return { train, validation };
}

function epochRecord(
  phase: Phase,
  epoch: number,
  learningRate: number,
  train: EpochStats,
  validation: EvalStats,
  improved: boolean,
  best: boolean,
): EpochRecord {
  return {
    phase,
    epoch,
    trainLoss: train.loss,
    trainSharpe: train.sharpe,
    validationLoss: validation.loss,
    validationSharpe: validation.sharpe,
    learningRate,
    seconds: train.seconds,
    gradNorm: train.gradNorm,
    gradients: train.gradients,
    improved,
    best,
  };
}
