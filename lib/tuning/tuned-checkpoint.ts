/**
 * After tuning: the best parameters trained with the run's full budget, saved as a checkpoint whose
 * metadata carries them (hpTuning) and whose study.json holds the study — every trial's parameters, state,
 * per-fold values and duration, and where the study itself lives.
 */
import { saveTrainingCheckpoint } from '../training/checkpoint.js';
import type { RunContext } from '../training/walk-forward-events.js';
import { trainWalkForward, type TrainingResult } from '../training/walk-forward.js';
import type { TrainingDataset } from '../training/walk-forward-plan.js';
import type { TuningResult } from './hp-tuner.js';

export function studySummary(r: TuningResult) {
  return {
    studyName: r.studyName,
    storage: r.storage,
    direction: 'maximize' as const,
    objective: 'mean OOS Sharpe over the tuning folds',
    bestTrial: r.bestTrial,
    bestValue: r.bestValue,
    bestParams: r.bestParams,
    trials: r.trials,
  };
}

export async function trainTunedModel(
  r: TuningResult,
  ctx: RunContext & { dataset?: TrainingDataset } = {},
): Promise<{ training: TrainingResult; checkpoint: string | undefined }> {
  const training = await trainWalkForward({ config: r.bestConfig, dataset: ctx.dataset, onEvent: ctx.onEvent, signal: ctx.signal });
  const checkpoint = r.bestConfig.output.saveCheckpoint
    ? await saveTrainingCheckpoint(training, undefined, {
        hpTuning: { bestParams: r.bestParams, bestValue: r.bestValue },
        study: studySummary(r),
      })
    : undefined;
  return { training, checkpoint };
}
