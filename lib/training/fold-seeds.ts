/**
 * The random streams of a walk-forward run, all derived from training.seed: the trainer's own (dropout,
 * fixed evaluation contexts) per fold, and per epoch the window sample and the minibatch shuffle. Each
 * stream gets its own mixSeed tag, so no two of them (or two folds, or two epochs) share a seed.
 */
import { mixSeed } from '../random/mix-seed.js';

const STREAM = { trainer: 1, windowSample: 2, shuffle: 3 } as const;

/** The fold's trainer: dropout masks and the context sets of evaluation and out-of-sample prediction. */
export function trainerSeed(runSeed: number, fold: number): number {
  return mixSeed(runSeed, fold, STREAM.trainer);
}

/** Which training windows the fold's `epoch`-th epoch (counted over both phases) samples. */
export function windowSampleSeed(runSeed: number, fold: number, epoch: number): number {
  return mixSeed(runSeed, fold, STREAM.windowSample, epoch);
}

/** The minibatch order (and the training context sets) of the fold's `epoch`-th epoch. */
export function shuffleSeed(runSeed: number, fold: number, epoch: number): number {
  return mixSeed(runSeed, fold, STREAM.shuffle, epoch);
}
