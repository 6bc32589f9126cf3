/**
 * What a walk-forward run reports while it runs, and the context every step of it takes: an event sink
 * (progress bars, logs) and a signal that cancels between epochs and between training steps.
 */
import type { AttributionAnalysis } from '../attribution/analysis/analyzer.js';
import { CancelledError } from '../errors.js';
import type { BestEpoch } from './fold-training.js';
import type { FoldSession } from './fold-session.js';
import type { Fold } from './folds.js';
import type { EpochStats, EvalStats, StepProgress } from './trainer.js';
import type { FoldResult } from './walk-forward.js';

export type Phase = 'pretrain' | 'finetune';

export type TrainingEvent =
  | { type: 'data'; symbols: number; days: number; features: number; maxLookback: number; firstDate: string; lastDate: string }
  | { type: 'plan'; folds: Fold[] }
  | {
      type: 'fold-start';
      fold: number;
      trainWindows: number;
      validationWindows: number;
      /** Windows each epoch trains on (after windowStride and maxWindowsPerEpoch), about. */
      epochWindows: number;
    }
  | { type: 'phase-start'; fold: number; phase: Phase; epochs: number; learningRate: number }
  | { type: 'step'; fold: number; phase: Phase; epoch: number; progress: StepProgress }
  /** improved: the phase's best validation loss so far (resets patience); best: the fold's best so far (weights kept). */
  | {
      type: 'epoch';
      fold: number;
      phase: Phase;
      epoch: number;
      epochs: number;
      train: EpochStats;
      validation: EvalStats;
      improved: boolean;
      best: boolean;
    }
  /** The phase stopped after `patience` epochs without improving its own best validation loss. */
  | { type: 'early-stop'; fold: number; phase: Phase; epoch: number; bestValidationLoss: number }
  /** The end of a phase: the weights are back at the fold's best epoch so far, which the next phase starts from. */
  | { type: 'restore'; fold: number; phase: Phase; bestValidationLoss: number; bestEpoch: BestEpoch }
  /** An attribution analysis of the fold's validation buffer (config.attribution); budgetExhausted: the last one of the fold. */
  | { type: 'attribution'; fold: number; phase: Phase; epoch: number; analysis: AttributionAnalysis; budgetExhausted: boolean }
  | { type: 'fold-end'; fold: number; result: FoldResult }
  /** A stability snapshot of the fold (its VSN importance, or an attribution method's) was written at `path`. */
  | { type: 'snapshot'; fold: number; path: string; method?: string };

export interface RunContext {
  onEvent?: (e: TrainingEvent) => void;
  signal?: AbortSignal;
  /**
   * Runs once a fold is trained and evaluated, while its session (model, normalised features) is still
   * open: the feature selector's permutation importance reads the fold's model there.
   */
  inspectFold?: (session: FoldSession) => Promise<void>;
}

export function emitter(ctx: RunContext): (e: TrainingEvent) => void {
  return ctx.onEvent ?? (() => {});
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('training was cancelled', 'signal');
}
