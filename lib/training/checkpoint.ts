/**
 * Saving a walk-forward run as a checkpoint: the last fold's model (trained on the most recent data, the one
 * the run ships) with everything inference needs — config, the feature names and their normalisation, asset
 * names — and what the run measured: fold ranges, epochs, per-fold and overall OOS metrics, and the VSN
 * ranking of the features over the folds (featureSelection).
 */
import { CheckpointManager, type SaveOptions } from '../checkpoint/checkpoint-manager.js';
import type { CheckpointMetadata } from '../checkpoint/metadata.js';
import { featureCatalogue } from '../data/feature-catalogue.js';
import { normalizationToJSON } from '../data/normalization.js';
import { DEFAULT_CONTEXT_POOL_DAYS } from '../defaults.js';
import { meanUpperTriangle } from '../rank/pairwise-summary.js';
import { kendallTauMatrixSync } from '../rank/rank-correlation.js';
import type { TrainingResult } from './walk-forward.js';

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

export interface TrainingCheckpointOptions {
  /** The tuner's best parameters when an HP search produced this run; null (the default) when none ran. */
  hpTuning?: CheckpointMetadata['hpTuning'];
  /** The tuner's study, stored as study.json. */
  study?: unknown;
  /** Passed to CheckpointManager.save (by default HEAD of the current directory's repository). */
  gitCommit?: SaveOptions['gitCommit'];
  gitDirty?: SaveOptions['gitDirty'];
}

/**
 * The run's feature selection: every feature is in use (the VSN weighs them softly, it drops none), each
 * scored by its VSN importance averaged over the folds; rankStability is the mean Kendall tau between the
 * folds' importance vectors (how much the ranking moves from fold to fold), null with fewer than two folds.
 */
export function featureSelectionOf(result: Pick<TrainingResult, 'featureNames' | 'folds'>): CheckpointMetadata['featureSelection'] {
  const folds = result.folds.filter((f) => f.vsnImportance.length > 0);
  if (folds.length === 0) return null;
  const F = result.featureNames.length;
  const column = new Map(result.featureNames.map((n, i) => [n, i]));
  const rows = folds.map((f) => {
    const row = new Float64Array(F).fill(Number.NaN);
    for (const w of f.vsnImportance) {
      const i = column.get(w.name);
      if (i !== undefined) row[i] = w.weight;
    }
    return row;
  });
  const stabilityScores: Record<string, number> = {};
  result.featureNames.forEach((name, i) => {
    let sum = 0;
    let n = 0;
    for (const row of rows) {
      if (Number.isFinite(row[i]!)) {
        sum += row[i]!;
        n++;
      }
    }
    if (n > 0) stabilityScores[name] = sum / n;
  });
  let rankStability: number | null = null;
  if (rows.length >= 2) {
    const m = rows.length;
    const { mean, count } = meanUpperTriangle(kendallTauMatrixSync(rows), m);
    // Rounding can carry a mean of ±1 taus a hair past the bound the schema checks.
    if (count > 0) rankStability = Math.max(-1, Math.min(1, mean));
  }
  return { selected: [...result.featureNames], stabilityScores, method: 'tft_vsn', folds: folds.length, rankStability };
}

/**
 * The gradient flow of the epoch whose weights the checkpoint holds: the last fold's best epoch (its last
 * epoch when none beat the first validation loss). Per layer as the trainer measured it over that epoch, so
 * `tft-native explain` can report it with the attributions of the same model.
 */
export function gradientFlowOf(result: Pick<TrainingResult, 'folds'>): NonNullable<CheckpointMetadata['trainingInfo']>['gradientFlow'] {
  const fold = result.folds.at(-1);
  if (!fold) return undefined;
  const best = fold.bestEpoch;
  const record = (best && fold.epochs.find((e) => e.phase === best.phase && e.epoch === best.epoch)) ?? fold.epochs.at(-1);
  // (results assembled by hand may have epochs without gradients)
  if (!record?.gradients || record.gradients.length === 0) return undefined;
  const finiteLayer = (l: (typeof record.gradients)[number]) => [l.norm, l.meanAbs, l.maxNorm].every(Number.isFinite);
  if (!record.gradients.every(finiteLayer)) return undefined;
  return { fold: fold.fold.index, phase: record.phase, epoch: record.epoch, layers: record.gradients.map((l) => ({ ...l })) };
}

/** The last fold's last attribution analysis, as the checkpoint stores it; null when training ran none. */
export function attributionSummaryOf(result: Pick<TrainingResult, 'folds'>): CheckpointMetadata['attribution'] {
  // (results assembled by hand before the field existed have no analyses)
  const fold = [...result.folds].reverse().find((f) => (f.attribution ?? []).length > 0);
  const last = fold?.attribution.at(-1);
  if (!fold || !last) return null;
  const a = last.analysis;
  return {
    fold: fold.fold.index,
    phase: last.phase,
    epoch: last.epoch,
    windows: a.windows,
    primaryMethod: a.primaryMethod,
    consensus: a.consensus ? finiteOrNull(a.consensus.meanCorrelation) : null,
    sparsity: a.quality.sparsity,
    concentration: a.quality.concentration,
    infidelity: a.quality.infidelity === undefined ? null : finiteOrNull(a.quality.infidelity),
    sensitivity: a.quality.sensitivity === undefined ? null : finiteOrNull(a.quality.sensitivity),
    deadFeatures: a.deadFeatures.features,
    topFeatures: a.rankings.overall.slice(0, 20),
    health: a.health.map((h) => ({ metric: h.metric, level: h.level, value: h.value })),
  };
}

/** How to rebuild the run's inputs: from the run's config and the catalogue entries of its features. */
export function inputSpecOf(result: Pick<TrainingResult, 'config' | 'featureNames' | 'modelConfig'>): CheckpointMetadata['inputSpec'] {
  const specs = new Map(featureCatalogue().map((s) => [s.name, s] as const));
  const features = result.featureNames.map((name) => {
    const s = specs.get(name);
    return { name, group: s?.group ?? 'other', lookback: s?.lookback ?? 0 };
  });
  const c = result.config;
  return {
    features,
    ohlcv: result.featureNames.some((n) => specs.get(n)?.needsOhlcv ?? false),
    clip: c.features.clip,
    window: result.modelConfig.seqLen,
    targets: { volSpan: c.targets.volSpan, sigmaTarget: c.targets.sigmaTarget, horizon: 1 },
    maxFillDays: c.data.maxFillDays,
    // A hand-built result (no schema defaults) may lack positionSmooth: no smoothing then.
    positionSizing: { maxPosition: result.modelConfig.maxPosition, volTarget: null, smoothing: c.training.positionSmooth ?? 0 },
    ...(result.modelConfig.nContext > 0
      ? { context: { len: c.model.contextLen || result.modelConfig.seqLen, poolDays: DEFAULT_CONTEXT_POOL_DAYS, seed: c.training.seed } }
      : {}),
  };
}

export async function saveTrainingCheckpoint(
  result: TrainingResult,
  manager?: CheckpointManager,
  opts: TrainingCheckpointOptions = {},
): Promise<string> {
  const m = manager ?? new CheckpointManager(result.config.output.checkpointRoot);
  const norm = normalizationToJSON(result.normalization);
  const flow = gradientFlowOf(result);
  return m.save(
    result.model,
    {
      modelType: result.config.output.modelType,
      featureNames: result.featureNames,
      nAssets: result.symbols.length,
      assetNames: result.symbols,
      normalization: {
        names: norm.names,
        means: norm.means,
        stds: norm.stds,
        counts: norm.counts,
        startDay: norm.startDay,
        endDay: norm.endDay,
        startDate: norm.startDate,
        endDate: norm.endDate,
      },
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
          validationSharpeSE: finiteOrNull(f.validationNoise.sharpeStandardError),
        })),
        epochs: { pretrain: result.config.training.pretrainEpochs, finetune: result.config.training.finetuneEpochs },
        lossMode: result.config.training.lossMode,
        seconds: result.seconds,
        baselines: result.baselines.map((b) => ({
          name: b.name,
          sharpe: finiteOrNull(b.overall.sharpe),
          folds: b.folds.map((f) => finiteOrNull(f.sharpe)),
        })),
        ...(result.config.model.nContext > 0
          ? {
              context: {
                len: result.config.model.contextLen || result.config.model.seqLen,
                refreshDays: result.config.model.contextRefreshDays,
              },
            }
          : {}),
        ...(flow ? { gradientFlow: flow } : {}),
      },
      featureSelection: featureSelectionOf(result),
      hpTuning: opts.hpTuning ?? null,
      attribution: attributionSummaryOf(result),
      inputSpec: inputSpecOf(result),
      oos: {
        sharpe: finiteOrNull(result.oos.sharpe),
        totalReturn: finiteOrNull(result.oos.totalReturn),
        maxDrawdown: finiteOrNull(result.oos.maxDrawdown),
      },
    },
    {
      // The FeatureSelector the run trained on; otherwise the last fold's VSN ranking and every fold's.
      featureSelector: result.featureSelector ?? {
        source: 'tft_vsn',
        fold: result.folds.at(-1)?.fold.index,
        vsnImportance: result.folds.at(-1)?.vsnImportance ?? [],
        perFold: result.folds.map((f) => ({ fold: f.fold.index, vsnImportance: f.vsnImportance })),
      },
      study: opts.study,
      gitCommit: opts.gitCommit,
      gitDirty: opts.gitDirty,
    },
  );
}
