/**
 * Explaining a saved model's recent decisions on a price panel: the checkpoint's features rebuilt with the
 * catalogue, normalised with its stored statistics, the windows ending on the last `days` days of every
 * asset explained with one attribution method, and the features ranked. The small step the CLI's
 * `attribute` command (and the report) call.
 */
import type { LoadedCheckpoint } from '../checkpoint/checkpoint-manager.js';
import { FeatureBuilder, type FeaturePanel } from '../data/feature-builder.js';
import { MarketDataStore } from '../data/market-data-store.js';
import { applyNormalization, normalizationFromJSON } from '../data/normalization.js';
import type { PricePanel } from '../data/price-panel.js';
import { DataError, InvalidArgumentError } from '../errors.js';
import { resolveInputSpec } from '../inference/input-spec.js';
import { ContextSampler, dateKey, type ContextSet } from '../model/context-sampler.js';
import type { ModelInput } from '../model/tft-model.js';
import { sampleDistinct, Xoshiro128 } from '../random/index.js';
import { Explainer } from './explainer.js';
import { rankFeatures } from './summary.js';
import { EXPLAIN_METHODS, runMethod, type ExplainMethod } from './run-method.js';
import type { Attribution } from './types.js';

export interface CheckpointExplanationOptions {
  checkpoint: LoadedCheckpoint;
  /** The prices; default the bundled Dow 30 sample. */
  prices?: PricePanel;
  method?: ExplainMethod;
  /** Windows ending on each of the last `days` days, per asset (default 21). */
  days?: number;
  /** Integrated Gradients' steps (default 50). */
  nSteps?: number;
  seed?: number;
  /** DeepLiftShap: how many windows of the whole history, drawn with the seed, form the baselines (default 16). */
  baselineWindows?: number;
}

export interface CheckpointExplanation {
  method: ExplainMethod;
  /** The windows explained: how many, and the span of their last days. */
  windows: number;
  firstDate: string;
  lastDate: string;
  /** Every feature, most important first. */
  ranking: { feature: string; importance: number }[];
  /** [T] mean Σ_f |attribution| per window step, oldest first. */
  stepImportance: number[];
  /** Integrated Gradients, DeepLift(Shap): the largest |Σ attributions − (F(x) − F(baseline))| over the windows. */
  maxAbsDelta?: number;
}

export interface Windows {
  x: Float32Array;
  batch: number;
  entityIds: Int32Array;
  /** Per window: its asset (index in the feature panel) and its last day (index in the panel's dates). */
  assets: Int32Array;
  ends: Int32Array;
  firstDate: string;
  lastDate: string;
}

/** The checkpoint's features rebuilt over the prices and normalised with its stored statistics. */
export function normalizedFeatures(c: LoadedCheckpoint, prices: PricePanel): FeaturePanel {
  const { featureNames, normalization } = c.metadata;
  if (normalization === null) throw new InvalidArgumentError('checkpoint: it stores no normalisation statistics', 'checkpoint');
  const built = new FeatureBuilder({ names: featureNames, ohlcv: prices.hasOhlcv }).build(prices);
  return applyNormalization(built, normalizationFromJSON(normalization));
}

/** Every complete, finite window whose last day is one of the last `days` days, asset by asset. */
function recentWindows(fp: FeaturePanel, T: number, days: number, assetIds: Map<string, number>): Windows {
  const D = fp.dates.length;
  return windowsEnding(fp, T, D - days, D - 1, assetIds);
}

/** Every complete, finite window whose last day index lies in [firstEnd, lastEnd], asset by asset. */
export function windowsEnding(
  fp: FeaturePanel,
  T: number,
  firstEnd: number,
  lastEnd: number,
  assetIds: Map<string, number>,
  only?: ReadonlySet<string>,
): Windows {
  const D = fp.dates.length;
  const F = fp.names.length;
  const rows: Float32Array[] = [];
  const ids: number[] = [];
  const assets: number[] = [];
  const ends: number[] = [];
  let first = D;
  let last = -1;
  fp.symbols.forEach((symbol, a) => {
    if (only && !only.has(symbol)) return;
    for (let end = Math.max(T - 1, firstEnd); end <= Math.min(D - 1, lastEnd); end++) {
      const w = fp.values.subarray((a * D + end - T + 1) * F, (a * D + end + 1) * F);
      if (!w.every(Number.isFinite)) continue;
      rows.push(w);
      ids.push(assetIds.get(symbol) ?? 0);
      assets.push(a);
      ends.push(end);
      first = Math.min(first, end);
      last = Math.max(last, end);
    }
  });
  if (rows.length === 0)
    throw new DataError(
      `no complete, finite ${T}-day window ends between ${fp.dates[Math.max(0, firstEnd)] ?? '?'} and ${fp.dates[Math.min(D - 1, lastEnd)] ?? '?'}`,
      'days',
    );
  const x = new Float32Array(rows.length * T * F);
  rows.forEach((w, i) => x.set(w, i * T * F));
  return {
    x,
    batch: rows.length,
    entityIds: Int32Array.from(ids),
    assets: Int32Array.from(assets),
    ends: Int32Array.from(ends),
    firstDate: fp.dates[first]!,
    lastDate: fp.dates[last]!,
  };
}

/**
 * The model input of some windows: their features, entity ids where the model embeds assets, and for
 * X-Trend models each window's context set, drawn as serving draws it (the checkpoint's context spec,
 * keyed by the window's last date), so an explanation explains the decision the pipeline serves.
 */
export function windowsInput(c: LoadedCheckpoint, fp: FeaturePanel, w: Windows, assetIds: Map<string, number>): ModelInput {
  const cfg = c.model.config;
  const input: ModelInput = { x: w.x, batch: w.batch, ...(cfg.nEntities > 0 ? { entityIds: w.entityIds } : {}) };
  if (cfg.nContext === 0) return input;
  const spec = resolveInputSpec(c.metadata).spec.context!;
  const F = fp.names.length;
  const sampler = new ContextSampler(
    { values: fp.values, assets: fp.symbols.length, days: fp.dates.length, features: F },
    cfg.nContext,
    spec,
  );
  const row = cfg.nContext * spec.len * F;
  const context = new Float32Array(w.batch * row);
  const contextIds = new Int32Array(w.batch * cfg.nContext);
  // Every asset's window ending on a date shares that date's set: draw it once per date.
  const byEnd = new Map<number, ContextSet>();
  for (let k = 0; k < w.batch; k++) {
    const end = w.ends[k]!;
    let set = byEnd.get(end);
    if (!set) byEnd.set(end, (set = sampler.sample(end - cfg.seqLen + 1, dateKey(fp.dates[end]!))));
    context.set(set.values, k * row);
    set.assets.forEach((a, j) => (contextIds[k * cfg.nContext + j] = assetIds.get(fp.symbols[a]!) ?? 0));
  }
  return { ...input, context, contextLen: spec.len, ...(cfg.nEntities > 0 ? { contextEntityIds: contextIds } : {}) };
}

export function entityMap(c: LoadedCheckpoint, prices: PricePanel): Map<string, number> {
  const map = new Map(c.metadata.assetNames.map((s, i) => [s, i] as const));
  if (c.model.config.nEntities > 0) {
    const unknown = prices.symbols.filter((s) => !map.has(s));
    if (unknown.length > 0)
      throw new DataError(
        `the model embeds the assets it was trained on; these are new to it: ${unknown.slice(0, 5).join(', ')}`,
        'symbols',
      );
  }
  return map;
}

/**
 * `count` complete windows drawn with the seed from the whole history: the reference distribution of
 * DeepLiftShap (what the market usually looks like, rather than the zero vector).
 */
export function historyWindows(fp: FeaturePanel, T: number, count: number, seed: number): Float32Array {
  const D = fp.dates.length;
  const F = fp.names.length;
  const ends: number[] = [];
  fp.symbols.forEach((_, a) => {
    for (let end = T - 1; end < D; end++) {
      const start = (a * D + end - T + 1) * F;
      if (fp.values.subarray(start, start + T * F).every(Number.isFinite)) ends.push(start);
    }
  });
  const k = Math.min(count, ends.length);
  const out = new Float32Array(k * T * F);
  sampleDistinct(ends.length, k, new Xoshiro128(seed)).forEach((i, r) =>
    out.set(fp.values.subarray(ends[i]!, ends[i]! + T * F), r * T * F),
  );
  return out;
}

export async function explainCheckpoint(o: CheckpointExplanationOptions): Promise<CheckpointExplanation> {
  const method = o.method ?? 'integratedGradients';
  if (!EXPLAIN_METHODS.includes(method))
    throw new InvalidArgumentError(`method: must be one of ${EXPLAIN_METHODS.join(', ')}, got ${String(method)}`, 'method');
  const days = o.days ?? 21;
  if (!Number.isInteger(days) || days < 1) throw new InvalidArgumentError(`days: must be an integer >= 1, got ${days}`, 'days');
  const model = o.checkpoint.model;
  const prices = o.prices ?? (await pricesForCheckpoint(o.checkpoint));
  const fp = normalizedFeatures(o.checkpoint, prices);
  const ids = entityMap(o.checkpoint, prices);
  const w = recentWindows(fp, model.config.seqLen, days, ids);
  const input = windowsInput(o.checkpoint, fp, w, ids);
  const baselineCount = o.baselineWindows ?? 16;
  if (!Number.isInteger(baselineCount) || baselineCount < 1)
    throw new InvalidArgumentError(`baselineWindows: must be an integer >= 1, got ${baselineCount}`, 'baselineWindows');
  const distribution = method === 'deepLiftShap' ? historyWindows(fp, model.config.seqLen, baselineCount, o.seed ?? 0) : undefined;
  const r: Attribution = await runMethod(new Explainer(model), method, input, { nSteps: o.nSteps, seed: o.seed, distribution });
  return {
    method,
    windows: w.batch,
    firstDate: w.firstDate,
    lastDate: w.lastDate,
    ranking: rankFeatures(r.featureImportance, fp.names),
    stepImportance: Array.from(r.stepImportance),
    ...(r.delta ? { maxAbsDelta: Math.max(...Array.from(r.delta, Math.abs)) } : {}),
  };
}

/** The checkpoint's assets (those the store has) from a store: the bundled sample unless files are given. */
export async function pricesForCheckpoint(c: LoadedCheckpoint, files?: string | string[]): Promise<PricePanel> {
  const store = files === undefined ? await MarketDataStore.bundled() : await MarketDataStore.open(files);
  try {
    const available = new Set(store.symbols());
    const symbols = c.metadata.assetNames.filter((s) => available.has(s));
    return await store.panel(symbols.length > 0 ? { symbols } : {});
  } finally {
    await store.close();
  }
}
