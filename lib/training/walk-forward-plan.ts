/**
 * The first step of a walk-forward run: the validated config, the price and feature panels, the labels the
 * model trains on and the folds by date. Everything later (fold training, evaluation) reads this plan and
 * changes none of it, so one plan serves any number of training runs (a tuner's trials, a retrain).
 */
import { CudaUnavailableError, InvalidArgumentError } from '../errors.js';
import { FeatureBuilder, type FeaturePanel } from '../data/feature-builder.js';
import { MarketDataStore } from '../data/market-data-store.js';
import type { PricePanel } from '../data/price-panel.js';
import { requiredHistory } from '../data/required-history.js';
import { buildTargets } from '../data/targets.js';
import { TFTModel } from '../model/tft-model.js';
import { DEFAULT_FEATURE_GROUPS, resolveTrainingConfig, type TrainingConfig } from './config.js';
import { planFolds, type Fold } from './folds.js';
import { emitter, type RunContext } from './walk-forward-events.js';

/** The label is the next-day return. */
export const HORIZON = 1;

export interface TrainingDataset {
  prices: PricePanel;
  /** Precomputed features on the same calendar (e.g. a synthetic panel); built from `prices` when absent. */
  features?: FeaturePanel;
}

/** What the model learns from, [assets, days] like the prices. */
export interface TrainingLabels {
  /** The volatility-scaled next-day return (X-Trend's label). */
  target: Float32Array;
  /** The leverage σ_target / σ_t of a unit position (transaction costs, turnover). */
  scale: Float32Array;
}

export interface WalkForwardPlan {
  /** Validated, defaults filled in. */
  config: TrainingConfig;
  prices: PricePanel;
  features: FeaturePanel;
  labels: TrainingLabels;
  folds: Fold[];
}

export interface PlanOptions {
  config: TrainingConfig;
  /** The data; otherwise read from config.data (the bundled Dow 30 sample when no path is set). */
  dataset?: TrainingDataset;
  onEvent?: RunContext['onEvent'];
}

/** Emits 'data' once the panels are in and 'plan' once the folds are; bad config values fail before any data is read. */
export async function planWalkForward(opts: PlanOptions): Promise<WalkForwardPlan> {
  const emit = emitter(opts);
  // Validated again (a hand-built config skips resolveTrainingConfig).
  const config = resolveTrainingConfig(opts.config);
  checkDevice(config.model.device);
  const { prices, features } = await loadPanels(config, opts.dataset);
  const D = prices.dates.length;
  emit({
    type: 'data',
    symbols: prices.symbols.length,
    days: D,
    features: features.names.length,
    maxLookback: features.maxLookback,
    firstDate: prices.dates[0]!,
    lastDate: prices.dates[D - 1]!,
  });
  const labels = trainingLabels(prices, config.targets);
  const folds = planFolds({
    dates: prices.dates,
    count: config.folds.count,
    testDays: config.folds.testDays,
    validationDays: config.folds.validationDays,
    scheme: config.folds.scheme,
    trainDays: config.folds.trainDays,
    horizon: HORIZON,
    maxLookback: features.maxLookback,
    window: config.model.seqLen,
  });
  emit({ type: 'plan', folds });
  return { config, prices, features, labels, folds };
}

export function trainingLabels(prices: PricePanel, targets: TrainingConfig['targets']): TrainingLabels {
  const t = buildTargets(prices, { horizons: [HORIZON], volSpan: targets.volSpan, sigmaTarget: targets.sigmaTarget });
  return { target: t.scaledNextDayReturn, scale: t.leverage };
}

/** The prices (given or read) and their features (given, or built by one builder that also sized the history check). */
async function loadPanels(config: TrainingConfig, dataset: TrainingDataset | undefined): Promise<Required<TrainingDataset>> {
  if (dataset?.features) {
    const { prices, features } = dataset;
    if (features.dates.length !== prices.dates.length || features.symbols.length !== prices.symbols.length) {
      throw new InvalidArgumentError('dataset: features and prices must share symbols and calendar', 'dataset');
    }
    return { prices, features };
  }
  const builder = featureBuilder(config);
  const prices = dataset?.prices ?? (await loadPrices(config, builder));
  return { prices, features: builder.build(prices) };
}

function featureBuilder(config: TrainingConfig): FeatureBuilder {
  const groups = config.features.names ? config.features.groups : (config.features.groups ?? DEFAULT_FEATURE_GROUPS);
  return new FeatureBuilder({ groups, names: config.features.names, ohlcv: config.features.ohlcv });
}

async function loadPrices(config: TrainingConfig, builder: FeatureBuilder): Promise<PricePanel> {
  const path = config.data.path;
  const store = path === undefined ? await MarketDataStore.bundled() : await MarketDataStore.open(path);
  try {
    return await store.panel({
      symbols: config.data.symbols,
      start: config.data.start,
      end: config.data.end,
      maxFillDays: config.data.maxFillDays,
      minHistory: requiredHistory(builder, store.info().hasOhlcv),
    });
  } finally {
    await store.close();
  }
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
