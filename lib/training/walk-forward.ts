/**
 * Walk-forward training from Node: prices → causal features → X-Trend labels → folds by date with purge
 * gaps → per fold: normalisation fitted on the fold's training range, native training in a pretrain and
 * a finetune phase with early stopping on the validation loss, VSN weights per feature over the validation
 * windows (the feature selector's primary signal), and out-of-sample metrics from rolling prediction over
 * the test range.
 *
 * Cost grows linearly in windows × epochs for training (the dominant term), and in assets × days for
 * features and rolling prediction.
 */
import { CancelledError, CudaUnavailableError, InvalidArgumentError } from '../errors.js';
import { FeatureBuilder, type FeaturePanel } from '../data/feature-builder.js';
import { maxLookback } from '../data/feature-catalogue.js';
import { MarketDataStore } from '../data/market-data-store.js';
import { applyNormalization, fitNormalization, type Normalization } from '../data/normalization.js';
import type { PricePanel } from '../data/price-panel.js';
import { buildTargets } from '../data/targets.js';
import { TFTModel } from '../model/tft-model.js';
import type { TFTConfig } from '../model/config.js';
import { backtest, metricsFromReturns, type StrategyMetrics } from './backtest.js';
import { DEFAULT_FEATURE_GROUPS, resolveTrainingConfig, type TrainingConfig } from './config.js';
import { planFolds, type Fold } from './folds.js';
import { Trainer, type EpochStats, type EvalStats, type LayerGradient, type StepProgress, type WindowSet } from './trainer.js';
import type { StabilityReport } from '../stability/analysis.js';
import { DEFAULT_STABILITY_CONFIG } from '../stability/config.js';
import { saveSnapshotHook } from '../stability/hooks.js';

/** The label is the next-day return. */
const HORIZON = 1;

export type Phase = 'pretrain' | 'finetune';

export type TrainingEvent =
  | { type: 'data'; symbols: number; days: number; features: number; maxLookback: number; firstDate: string; lastDate: string }
  | { type: 'plan'; folds: Fold[] }
  | { type: 'fold-start'; fold: number; trainWindows: number; validationWindows: number }
  | { type: 'phase-start'; fold: number; phase: Phase; epochs: number; learningRate: number }
  | { type: 'step'; fold: number; phase: Phase; epoch: number; progress: StepProgress }
  /** improved: the phase's best validation loss so far (resets patience); best: the fold's best so far (weights kept). */
  | { type: 'epoch'; fold: number; phase: Phase; epoch: number; epochs: number; train: EpochStats; validation: EvalStats; improved: boolean; best: boolean }
  /** The phase stopped after `patience` epochs without improving its own best validation loss. */
  | { type: 'early-stop'; fold: number; phase: Phase; epoch: number; bestValidationLoss: number }
  /** The end of a phase: the weights are back at the fold's best epoch so far, which the next phase starts from. */
  | { type: 'restore'; fold: number; phase: Phase; bestValidationLoss: number; bestEpoch: BestEpoch }
  | { type: 'fold-end'; fold: number; result: FoldResult }
  | { type: 'snapshot'; fold: number; path: string; report?: StabilityReport };

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

export interface FeatureWeight {
  name: string;
  group: string;
  weight: number;
}

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
  trainWindows: number;
  validationWindows: number;
  seconds: number;
}

export interface TrainingDataset {
  prices: PricePanel;
  /** Precomputed features on the same calendar (e.g. a synthetic panel); built from `prices` when absent. */
  features?: FeaturePanel;
}

export interface WalkForwardOptions {
  config: TrainingConfig;
  /** The data; otherwise read from config.data (the bundled Dow 30 sample when no path is set). */
  dataset?: TrainingDataset;
  onEvent?: (e: TrainingEvent) => void;
  signal?: AbortSignal;
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
  /** The last fold's model (the production model, as in seed 004) and its normalisation. */
  model: TFTModel;
  normalization: Normalization;
  seconds: number;
}

function featureBuilder(config: TrainingConfig): FeatureBuilder {
  const groups = config.features.names ? config.features.groups : (config.features.groups ?? DEFAULT_FEATURE_GROUPS);
  return new FeatureBuilder({ groups, names: config.features.names, ohlcv: config.features.ohlcv });
}

/**
 * Listed days in a row a symbol needs for the builder's features to be complete once: the longest lookback
 * + 1. Handed to MarketDataStore.panel as minHistory, so a short symbol is reported with its file and rows.
 * Undefined when the selection needs OHLCV columns the data lacks: FeatureBuilder.build then reports that.
 */
export function requiredHistory(builder: FeatureBuilder, hasOhlcv: boolean): number | undefined {
  try {
    return maxLookback(builder.specs(hasOhlcv)) + 1;
  } catch (e) {
    if (e instanceof InvalidArgumentError && e.argument === 'ohlcv') return undefined;
    throw e;
  }
}

async function loadDataset(config: TrainingConfig): Promise<TrainingDataset> {
  const path = config.data.path;
  const store = path === undefined ? await MarketDataStore.bundled() : await MarketDataStore.open(path);
  try {
    const prices = await store.panel({
      symbols: config.data.symbols,
      start: config.data.start,
      end: config.data.end,
      maxFillDays: config.data.maxFillDays,
      minHistory: requiredHistory(featureBuilder(config), store.info().hasOhlcv),
    });
    return { prices };
  } finally {
    await store.close();
  }
}

function span(windows: readonly WindowSet[], T: number, horizon: number): WindowSpan {
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

/** Fails before any data is read when CUDA was asked for and cannot be had, with the addon's reason. */
function checkDevice(device: 'cpu' | 'cuda'): void {
  if (device !== 'cuda') return;
  try {
    TFTModel.create({ nFeatures: 1, dHidden: 1, nHeads: 1, seqLen: 1 }, { device }).dispose();
  } catch (e) {
    if (e instanceof CudaUnavailableError) throw new CudaUnavailableError(`model.device: ${e.message}`, 'model.device');
    throw e;
  }
}

/** A copy of days [start, end] of every asset: [A, end - start + 1, F]. */
function sliceDays(values: Float32Array, A: number, D: number, F: number, start: number, end: number): Float32Array {
  const n = end - start + 1;
  const out = new Float32Array(A * n * F);
  for (let a = 0; a < A; a++) out.set(values.subarray((a * D + start) * F, (a * D + end + 1) * F), a * n * F);
  return out;
}

export async function trainWalkForward(opts: WalkForwardOptions): Promise<TrainingResult> {
  const t0 = performance.now();
  // Validated again (a hand-built config skips resolveTrainingConfig): bad values fail before any data is read.
  const config = resolveTrainingConfig(opts.config);
  checkDevice(config.model.device);
  const emit = opts.onEvent ?? (() => {});
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new CancelledError('training was cancelled', 'signal');
  };
  const dataset = opts.dataset ?? (await loadDataset(config));
  const prices = dataset.prices;
  const features = dataset.features ?? featureBuilder(config).build(prices);
  if (features.dates.length !== prices.dates.length || features.symbols.length !== prices.symbols.length) {
    throw new InvalidArgumentError('dataset: features and prices must share symbols and calendar', 'dataset');
  }
  const A = prices.symbols.length;
  const D = prices.dates.length;
  const F = features.names.length;
  emit({ type: 'data', symbols: A, days: D, features: F, maxLookback: features.maxLookback, firstDate: prices.dates[0]!, lastDate: prices.dates[D - 1]! });

  const targets = buildTargets(prices, { horizons: [HORIZON], volSpan: config.targets.volSpan, sigmaTarget: config.targets.sigmaTarget });
  const target = targets.scaledNextDayReturn;
  const scale = new Float32Array(A * D);
  for (let i = 0; i < scale.length; i++) scale[i] = config.targets.sigmaTarget / (targets.sigma[i]! * Math.sqrt(252));

  const T = config.model.seqLen;
  const folds = planFolds({
    dates: prices.dates,
    count: config.folds.count,
    testDays: config.folds.testDays,
    validationDays: config.folds.validationDays,
    scheme: config.folds.scheme,
    trainDays: config.folds.trainDays,
    horizon: HORIZON,
    maxLookback: features.maxLookback,
    window: T,
  });
  emit({ type: 'plan', folds });

  const entityIds = Int32Array.from({ length: A }, (_, i) => i);
  const results: FoldResult[] = [];
  let lastModel: TFTModel | undefined;
  let lastNorm: Normalization | undefined;
  let modelConfig: TFTConfig | undefined;
  const tc = config.training;

  for (const fold of folds) {
    checkAbort();
    const foldStart = performance.now();
    // Normalisation from the days the fold's training windows read, and nothing later.
    const norm = fitNormalization(features, { startDay: Math.max(0, fold.train.start - T + 1), endDay: fold.train.end + 1 });
    const normalized = applyNormalization(features, norm, { clip: config.features.clip });
    const model = TFTModel.create({
      nFeatures: F,
      dHidden: config.model.dHidden,
      nHeads: config.model.nHeads,
      lstmLayers: config.model.lstmLayers,
      dropout: config.model.dropout,
      seqLen: T,
      nContext: config.model.nContext,
      maxPosition: config.model.maxPosition,
      nEntities: config.model.useEntities ? A : 0,
      seed: config.model.seed + fold.index,
    }, { device: config.model.device });
    modelConfig = model.config;
    const trainer = new Trainer(
      model,
      { features: normalized.values, assets: A, days: D, target, scale, entityIds: config.model.useEntities ? entityIds : undefined },
      {
        learningRate: tc.learningRate,
        weightDecay: tc.weightDecay,
        clipNorm: tc.clipNorm,
        batchSize: tc.batchSize,
        window: T,
        contextLen: config.model.nContext > 0 ? config.model.contextLen : undefined,
        seed: tc.seed + 1000 * fold.index,
        lossMode: tc.lossMode,
        mleWeight: tc.mleWeight,
        warmupSteps: Math.min(tc.warmupSteps, T - 1),
        costBps: tc.costBps,
      },
    );
    try {
      const trainWindows = trainer.validWindows(fold.train.start, fold.train.end);
      const validationWindows = trainer.validWindows(fold.validation.start, fold.validation.end);
      if (trainWindows.size === 0 || validationWindows.size === 0) {
        throw new InvalidArgumentError(
          `fold ${fold.index}: no complete ${T}-day windows with finite features and labels in the ${trainWindows.size === 0 ? 'training' : 'validation'} range`,
          'folds',
        );
      }
      emit({ type: 'fold-start', fold: fold.index, trainWindows: trainWindows.size, validationWindows: validationWindows.size });
      const epochs: EpochRecord[] = [];
      const trained: WindowSet[] = [];
      // Early stopping: each phase stops after `patience` epochs without beating its own best validation
      // loss; the weights of the fold's best epoch so far are kept, and restored at the end of every phase.
      // So finetuning starts from the best pretrained weights, and the fold's model is the epoch with the
      // lowest validation loss over both phases.
      let best = Number.POSITIVE_INFINITY;
      let bestEpoch: BestEpoch | undefined;
      let epochCounter = 0;
      for (const [phase, count, lr] of [
        ['pretrain', tc.pretrainEpochs, tc.learningRate],
        ['finetune', tc.finetuneEpochs, tc.learningRate * tc.finetuneLrScale],
      ] as const) {
        if (count === 0) continue;
        trainer.learningRate = lr;
        emit({ type: 'phase-start', fold: fold.index, phase, epochs: count, learningRate: lr });
        let phaseBest = Number.POSITIVE_INFINITY;
        let stale = 0;
        for (let e = 0; e < count; e++) {
          checkAbort();
          const seed = tc.seed * 7919 + fold.index * 104729 + epochCounter++;
          const sample = tc.maxWindowsPerEpoch > 0 ? trainWindows.sample(tc.maxWindowsPerEpoch, seed + 1) : trainWindows;
          trained.push(sample);
          const train = await trainer.trainEpoch(sample, {
            shuffleSeed: seed,
            signal: opts.signal,
            onStep: (progress) => emit({ type: 'step', fold: fold.index, phase, epoch: e, progress }),
          });
          const validation = await trainer.evaluate(validationWindows);
          const improved = validation.loss < phaseBest - 1e-9;
          if (improved) {
            phaseBest = validation.loss;
            stale = 0;
          } else {
            stale++;
          }
          const isBest = validation.loss < best - 1e-9;
          if (isBest) {
            best = validation.loss;
            bestEpoch = { phase, epoch: e };
            trainer.saveBest();
          }
          epochs.push({
            phase,
            epoch: e,
            trainLoss: train.loss,
            trainSharpe: train.sharpe,
            validationLoss: validation.loss,
            validationSharpe: validation.sharpe,
            learningRate: lr,
            seconds: train.seconds,
            gradNorm: train.gradNorm,
            gradients: train.gradients,
            improved,
            best: isBest,
          });
          emit({ type: 'epoch', fold: fold.index, phase, epoch: e, epochs: count, train, validation, improved, best: isBest });
          if (stale >= tc.patience) {
            emit({ type: 'early-stop', fold: fold.index, phase, epoch: e, bestValidationLoss: phaseBest });
            break;
          }
        }
        if (bestEpoch) {
          trainer.restoreBest();
          emit({ type: 'restore', fold: fold.index, phase, bestValidationLoss: best, bestEpoch });
        }
      }
      const weights = await trainer.vsnImportance(validationWindows);
      const vsnImportance = features.names
        .map((name, i) => ({ name, group: features.groups[i]!, weight: weights[i]! }))
        .sort((a, b) => b.weight - a.weight);
      // Out of sample: every window ending in the test range, through rolling prediction.
      const from = Math.max(0, fold.test.start - T + 1);
      const days = fold.test.end - from + 1;
      const position = new Float32Array(A * D).fill(Number.NaN);
      const ids = config.model.useEntities ? entityIds : undefined;
      if (config.model.nContext === 0) {
        const rolled = await model.predictRolling(
          { values: sliceDays(normalized.values, A, D, F, from, fold.test.end), assets: A, days },
          { window: T, skipNonFinite: true, entityIds: ids },
        );
        for (let a = 0; a < A; a++) position.set(rolled.position.subarray(a * days, (a + 1) * days), a * D + from);
      } else {
        // X-Trend: blocks of contextRefreshDays, each with one context set of sequences that end before
        // the block's first window starts.
        const L = trainer.contextLength;
        for (let b0 = fold.test.start; b0 <= fold.test.end; b0 += config.model.contextRefreshDays) {
          const b1 = Math.min(fold.test.end, b0 + config.model.contextRefreshDays - 1);
          const first = Math.max(0, b0 - T + 1);
          const ctx = trainer.sampleContext(b0 - T + 1, b0);
          const context = new Float32Array(ctx.size * L * F);
          const contextEntityIds = new Int32Array(ctx.size);
          for (let k = 0; k < ctx.size; k++) {
            const asset = ctx.pairs[2 * k]!, last = ctx.pairs[2 * k + 1]!;
            context.set(normalized.values.subarray((asset * D + last - L + 1) * F, (asset * D + last + 1) * F), k * L * F);
            contextEntityIds[k] = asset;
          }
          const n = b1 - first + 1;
          const rolled = await model.predictRolling(
            { values: sliceDays(normalized.values, A, D, F, first, b1), assets: A, days: n },
            { window: T, skipNonFinite: true, entityIds: ids, context, contextLen: L, contextEntityIds: ids ? contextEntityIds : undefined },
          );
          for (let a = 0; a < A; a++) {
            position.set(rolled.position.subarray(a * n + (b0 - first), (a + 1) * n), a * D + b0);
          }
        }
      }
      const oos = backtest({ position, target, scale, assets: A, days: D, start: fold.test.start, end: fold.test.end, costBps: tc.costBps });
      const testSpan = { windows: 0, firstEnd: fold.test.start, lastEnd: fold.test.end, firstDay: from, lastLabelDay: fold.test.end + HORIZON };
      for (let a = 0; a < A; a++) {
        for (let d = fold.test.start; d <= fold.test.end; d++) if (Number.isFinite(position[a * D + d]!)) testSpan.windows++;
      }
      const result: FoldResult = {
        fold,
        epochs,
        bestValidationLoss: best,
        bestEpoch,
        windows: { train: span(trained, T, HORIZON), validation: span([validationWindows], T, HORIZON), test: testSpan },
        normalization: norm,
        vsnImportance,
        oos,
        trainWindows: trainWindows.size,
        validationWindows: validationWindows.size,
        seconds: (performance.now() - foldStart) / 1000,
      };
      results.push(result);
      emit({ type: 'fold-end', fold: fold.index, result });
      if (config.output.stabilityDir) {
        // One tft_vsn snapshot per fold: the stability store tracks how the model's feature ranking moves
        // from fold to fold and from run to run.
        const saved = await saveSnapshotHook({
          targetName: 'scaled_next_day_return',
          method: 'tft_vsn',
          universeId: 'ALL',
          importance: { names: vsnImportance.map((w) => w.name), values: vsnImportance.map((w) => w.weight) },
          outputDir: config.output.stabilityDir,
          fold: fold.index,
          seed: config.model.seed,
          metadata: { test: [fold.test.startDate, fold.test.endDate], oosSharpe: Number.isFinite(oos.sharpe) ? oos.sharpe : null },
          autoAnalyze: false,
          // The run names its store and never auto-analyses: no config file lookup per fold.
          config: DEFAULT_STABILITY_CONFIG,
          logger: { info: () => {}, warn: () => {} },
        });
        emit({ type: 'snapshot', fold: fold.index, path: saved.path });
      }
    } finally {
      trainer.dispose();
    }
    lastModel?.dispose();
    lastModel = model;
    lastNorm = norm;
  }

  const all = Float64Array.from(results.flatMap((r) => Array.from(r.oos.returns)));
  const oos = metricsFromReturns(all, results.length ? results.reduce((a, f) => a + f.oos.turnover, 0) / results.length : 0);
  return {
    config,
    modelConfig: modelConfig!,
    symbols: prices.symbols,
    dates: prices.dates,
    featureNames: features.names,
    featureGroups: features.groups,
    maxLookback: features.maxLookback,
    folds: results,
    oos,
    model: lastModel!,
    normalization: lastNorm!,
    seconds: (performance.now() - t0) / 1000,
  };
}
