/**
 * A sampler in Optuna's shape: a joint ("relative") draw over the search space inferred from finished
 * trials when a trial starts, and an independent draw for every parameter outside it. Values are internal
 * (a categorical's choice index).
 */
import type { Distribution } from '../distributions.js';
import type { Direction, FrozenTrial } from '../frozen-trial.js';

/**
 * What a sampler or pruner reads of the study: its direction and its trials, as read from the storage when
 * the trial started (samplers) or just now (pruners). Read-only.
 */
export interface StudyView {
  readonly direction: Direction;
  readonly trials: readonly FrozenTrial[];
}

export interface Sampler {
  inferRelativeSearchSpace(study: StudyView, trial: FrozenTrial): Record<string, Distribution>;
  sampleRelative(study: StudyView, trial: FrozenTrial, space: Record<string, Distribution>): Record<string, number>;
  sampleIndependent(study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): number;
}
