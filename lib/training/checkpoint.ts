/**
 * Saving a walk-forward run as a checkpoint: the last fold's model (the production model, as in seed 004)
 * with everything inference needs — config, the feature names and their normalisation, asset names — and
 * what the run measured: fold ranges, epochs, per-fold and overall OOS metrics.
 */
import { CheckpointManager } from '../checkpoint/checkpoint-manager.js';
import { normalizationToJSON } from '../data/normalization.js';
import type { TrainingResult } from './walk-forward.js';

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

export async function saveTrainingCheckpoint(result: TrainingResult, manager?: CheckpointManager): Promise<string> {
  const m = manager ?? new CheckpointManager(result.config.output.checkpointRoot);
  const norm = normalizationToJSON(result.normalization);
  return m.save(
    result.model,
    {
      modelType: result.config.output.modelType,
      featureNames: result.featureNames,
      nAssets: result.symbols.length,
      assetNames: result.symbols,
      normalization: { names: norm.names, means: norm.means, stds: norm.stds, counts: norm.counts, startDay: norm.startDay, endDay: norm.endDay, startDate: norm.startDate, endDate: norm.endDate },
      trainingInfo: {
        folds: result.folds.map((f) => ({
          index: f.fold.index,
          train: { start: f.fold.train.startDate, end: f.fold.train.endDate },
          validation: { start: f.fold.validation.startDate, end: f.fold.validation.endDate },
          test: { start: f.fold.test.startDate, end: f.fold.test.endDate },
          epochs: f.epochs.length,
          bestValidationLoss: finiteOrNull(f.bestValidationLoss),
          sharpe: finiteOrNull(f.oos.sharpe),
          totalReturn: finiteOrNull(f.oos.totalReturn),
          maxDrawdown: finiteOrNull(f.oos.maxDrawdown),
          turnover: finiteOrNull(f.oos.turnover),
        })),
        epochs: { pretrain: result.config.training.pretrainEpochs, finetune: result.config.training.finetuneEpochs },
        lossMode: result.config.training.lossMode,
        seconds: result.seconds,
      },
      oos: { sharpe: finiteOrNull(result.oos.sharpe), totalReturn: finiteOrNull(result.oos.totalReturn), maxDrawdown: finiteOrNull(result.oos.maxDrawdown) },
    },
    {
      // The last fold's VSN ranking: what the feature selector will start from.
      featureSelector: { source: 'tft_vsn', fold: result.folds.at(-1)?.fold.index, vsnImportance: result.folds.at(-1)?.vsnImportance ?? [] },
    },
  );
}
