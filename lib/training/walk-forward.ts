/**
 * Walk-forward training from Node: prices → causal features → X-Trend labels → folds by date with purge
 * gaps → per fold: normalisation fitted on the fold's training range, native training in a pretrain and
 * a finetune phase with early stopping on the validation loss, VSN weights per feature over the validation
 * windows (the feature selector's primary signal), and out-of-sample metrics from rolling prediction over
 * the test range.
 *
 * The run is a sequence of steps, each usable on its own: planWalkForward (data, features, labels, folds),
 * then per fold prepareFold (normalisation, model, trainer, windows), trainFold (early stopping), evaluateFold
 * (VSN weights, OOS backtest) and saveFoldSnapshot (stability store).
 *
 * Cost grows linearly in windows × epochs for training (the dominant term), and in assets × days for
 * features and rolling prediction.
 *
 * With features.from (a FeatureSelector), each fold trains on the selection of the latest selector fold
 * whose training ended no later than its own, so no fold trains on a selection made with later data.
 */
import type { FeaturePanel } from '../data/feature-builder.js';
import { featureCatalogue } from '../data/feature-catalogue.js';
import { subsetFeatures } from '../data/feature-subset.js';
import type { Normalization } from '../data/normalization.js';
import { InvalidArgumentError } from '../errors.js';
import type { TFTConfig } from '../model/config.js';
import type { TFTModel } from '../model/tft-model.js';
import type { FeatureSelectorState } from '../selection/feature-selector.js';
import { loadTrainingSelection, type TrainingSelection } from '../selection/training-selection.js';
import { metricsFromReturns, type StrategyMetrics } from './backtest.js';
import type { TrainingConfig } from './config.js';
import { evaluateFold, type FeatureWeight } from './fold-evaluation.js';
import { closeFold, prepareFold, windowSpan, type WindowSpan } from './fold-session.js';
import { FoldAttribution, type EpochAnalysis } from './fold-attribution.js';
import { saveAttributionSnapshots, saveFoldSnapshot } from './fold-snapshot.js';
import { trainFold, type BestEpoch, type EpochRecord } from './fold-training.js';
import type { Fold } from './folds.js';
import { oosBaselines, type OosBaseline } from './oos-baselines.js';
import { validationNoise, type ValidationNoise } from './validation-noise.js';
import { emitter, throwIfCancelled, type RunContext } from './walk-forward-events.js';
import { HORIZON, planWalkForward, type TrainingDataset, type WalkForwardPlan } from './walk-forward-plan.js';

export type { Phase, TrainingEvent } from './walk-forward-events.js';
export type { BestEpoch, EpochRecord } from './fold-training.js';
export type { FeatureWeight } from './fold-evaluation.js';
export type { WindowSpan } from './fold-session.js';
export type { TrainingDataset } from './walk-forward-plan.js';

export interface FoldResult {
  fold: Fold;
  epochs: EpochRecord[];
  /** The fold's model is the one of this epoch: the lowest validation loss over both phases. */
  bestValidationLoss: number;
  bestEpoch: BestEpoch | undefined;
  /** What training (every sampled epoch together), validation and the OOS test actually read. */
  windows: { train: WindowSpan; validation: WindowSpan; test: WindowSpan };
  /** The normalisation the fold's model sees, fitted on the days its training windows read. */
  normalization: Normalization;
  /** VSN weight per feature, averaged over the fold's validation windows; sorted descending. */
  vsnImportance: FeatureWeight[];
  /** Out-of-sample metrics over the test range (daily returns included). */
  oos: StrategyMetrics;
  /** The standard error of the validation Sharpe that chose the epoch: is the choice above noise? */
  validationNoise: ValidationNoise;
  trainWindows: number;
  validationWindows: number;
  /** The attribution analyses made while the fold trained (config.attribution), oldest first. */
  attribution: EpochAnalysis[];
  seconds: number;
}

export interface WalkForwardOptions extends RunContext {
  config: TrainingConfig;
  /** The data; otherwise read from config.data (the bundled Dow 30 sample when no path is set). */
  dataset?: TrainingDataset;
}

export interface TrainingResult {
  config: TrainingConfig;
  modelConfig: TFTConfig;
  symbols: string[];
  dates: string[];
  featureNames: string[];
  featureGroups: string[];
  maxLookback: number;
  folds: FoldResult[];
  /** OOS metrics over every fold's test range, concatenated in time. */
  oos: StrategyMetrics;
  /** Long-only, TSMOM and MACD on the same test days, labels and costs as the model. */
  baselines: OosBaseline[];
  /** The last fold's model, trained on the most recent data: the one the run ships, with its normalisation. */
  model: TFTModel;
  normalization: Normalization;
  /** The FeatureSelector the run trained on (features.from), saved beside the checkpoint. */
  featureSelector?: FeatureSelectorState;
  seconds: number;
}

export async function trainWalkForward(opts: WalkForwardOptions): Promise<TrainingResult> {
  const t0 = performance.now();
  const selection = opts.config.features.from ? await loadTrainingSelection(opts.config.features.from) : undefined;
  const plan = await planWalkForward({ ...opts, config: selection ? selectedFeaturesConfig(opts.config, selection) : opts.config });
  const folds: FoldResult[] = [];
  let last: { model: TFTModel; normalization: Normalization; features: FeaturePanel } | undefined;
  for (const fold of plan.folds) {
    throwIfCancelled(opts.signal);
    const features = selection ? subsetFeatures(plan.features, selection.forFold(fold.train.endDate)) : plan.features;
    const { result, model } = await runFold(selection ? { ...plan, features } : plan, fold, opts);
    folds.push(result);
    last?.model.dispose();
    last = { model, normalization: result.normalization, features };
  }
  return {
    config: plan.config,
    modelConfig: last!.model.config,
    symbols: plan.prices.symbols,
    dates: plan.prices.dates,
    featureNames: last!.features.names,
    featureGroups: last!.features.groups,
    maxLookback: plan.features.maxLookback,
    folds,
    oos: overallOos(folds),
    baselines: oosBaselines(
      plan,
      folds.map((f) => f.fold.test),
    ),
    model: last!.model,
    normalization: last!.normalization,
    ...(selection?.selector && { featureSelector: selection.selector }),
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * The run's config with its panel built from every feature the selection uses. Feature groups, when the
 * config names them (the same run config `tft-native select` read), must hold every selected feature.
 */
function selectedFeaturesConfig(config: TrainingConfig, selection: TrainingSelection): TrainingConfig {
  if (config.features.names) {
    throw new InvalidArgumentError('features.from replaces features.names: give one or the other', 'features.from');
  }
  const groups = config.features.groups;
  if (groups) {
    const groupOf = new Map(featureCatalogue().map((s) => [s.name, s.group]));
    const outside = selection.names.filter((n) => groupOf.has(n) && !groups.includes(groupOf.get(n)!));
    if (outside.length) {
      throw new InvalidArgumentError(
        `features.from: ${outside.length} selected feature(s) are outside features.groups (${outside.slice(0, 3).join(', ')}…): ` +
          'train with the groups the selection ran on, or without features.groups',
        'features.from',
      );
    }
  }
  return { ...config, features: { ...config.features, groups: undefined, names: selection.names } };
}

/** Every step of one fold: prepare, train, evaluate, report, snapshot. The caller owns the returned model. */
export async function runFold(plan: WalkForwardPlan, fold: Fold, ctx: RunContext = {}): Promise<{ result: FoldResult; model: TFTModel }> {
  const t0 = performance.now();
  const session = prepareFold(plan, fold);
  let kept = false;
  try {
    const ac = plan.config.attribution;
    const attribution = ac.everyEpochs > 0 ? new FoldAttribution(session, ac, plan.features.names, plan.config.training.seed) : undefined;
    const training = await trainFold(session, plan.config.training, ctx, attribution);
    const evaluation = await evaluateFold(plan, session);
    await ctx.inspectFold?.(session);
    const result: FoldResult = {
      fold,
      epochs: training.epochs,
      bestValidationLoss: training.bestValidationLoss,
      bestEpoch: training.bestEpoch,
      windows: {
        train: training.trained,
        validation: windowSpan([session.validationWindows], session.window, HORIZON),
        test: evaluation.test,
      },
      normalization: session.normalization,
      vsnImportance: evaluation.vsnImportance,
      oos: evaluation.oos,
      validationNoise: foldValidationNoise(plan, fold, training.epochs),
      trainWindows: session.trainWindows.size,
      validationWindows: session.validationWindows.size,
      attribution: training.analyses,
      seconds: (performance.now() - t0) / 1000,
    };
    const emit = emitter(ctx);
    emit({ type: 'fold-end', fold: fold.index, result });
    const dir = plan.config.output.stabilityDir;
    if (dir) {
      emit({ type: 'snapshot', fold: fold.index, path: await saveFoldSnapshot(result, dir, plan.config.model.seed) });
      for (const s of await saveAttributionSnapshots(result, plan.features.names, dir, plan.config.model.seed))
        emit({ type: 'snapshot', fold: fold.index, path: s.path, method: s.method });
    }
    kept = true;
    return { result, model: session.model };
  } finally {
    closeFold(session, kept);
  }
}

/** The validation noise at the Sharpe of the epoch the fold kept. */
function foldValidationNoise(plan: WalkForwardPlan, fold: Fold, epochs: readonly EpochRecord[]): ValidationNoise {
  const kept = epochs.filter((e) => e.best).at(-1);
  return validationNoise(plan.labels, plan.prices.symbols.length, plan.prices.dates.length, fold.validation, kept?.validationSharpe ?? 0);
}

/** The folds' test ranges as one series (they are consecutive), with the folds' mean turnover. */
function overallOos(folds: readonly FoldResult[]): StrategyMetrics {
  const all = Float64Array.from(folds.flatMap((r) => Array.from(r.oos.returns)));
  return metricsFromReturns(all, folds.length ? folds.reduce((a, f) => a + f.oos.turnover, 0) / folds.length : 0);
}
