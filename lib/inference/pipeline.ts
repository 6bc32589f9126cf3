/**
 * TFTInferencePipeline: a checkpoint served on a price store. For a date (or a range) it reads the prices
 * the features and the window need, rebuilds the checkpoint's features exactly as training did (its input
 * spec), normalises them with the stored statistics, predicts every window with one rolling pass, sizes
 * the positions and attaches a confidence. `predict(d)` reads nothing after d, so it is causal; symbols
 * without a position on a day are reported with the reason, never served as 0. An X-Trend checkpoint's
 * windows each get the causal context set of their date (lib/model/context-sampler), drawn from the
 * history the read already covers.
 */
import path from 'node:path';

import { CheckpointManager, type LoadedCheckpoint } from '../checkpoint/checkpoint-manager.js';
import { FeatureBuilder } from '../data/feature-builder.js';
import type { MarketDataStore } from '../data/market-data-store.js';
import { applyNormalization, normalizationFromJSON } from '../data/normalization.js';
import type { PricePanel } from '../data/price-panel.js';
import { buildTargets } from '../data/targets.js';
import { DataError, InvalidArgumentError } from '../errors.js';
import { ContextSampler, dateKey, finiteRuns, type ContextSet } from '../model/context-sampler.js';
import type { Device } from '../model/tft-model.js';
import { requiredLookback, resolveInputSpec, type InputSpec } from './input-spec.js';
import { confidenceOf, convictionOf, sizePositions, smoothingWarmup, type PositionSizing } from './position-sizing.js';

export interface PipelineOptions {
  /** Overrides of the checkpoint's position sizing. */
  positionSizing?: Partial<PositionSizing>;
  /** Where the model runs (default 'cpu'); 'cuda' needs a CUDA libtorch and a GPU. */
  device?: Device;
}

export interface MissingPosition {
  symbol: string;
  reason: 'not in the data' | 'no price on the date' | 'too little history or non-finite features';
}

export interface InferenceMetadata {
  version: number;
  modelType: string;
  checkpointDir: string;
  nFeatures: number;
  /** What an older checkpoint did not record and was assumed. */
  assumed: string[];
}

export interface InferenceResult {
  date: string;
  /** The symbols with a position on the date, and per symbol: */
  symbols: string[];
  positions: number[];
  rawPositions: number[];
  confidences: number[];
  mu: number[];
  sigma: number[];
  /** Per symbol, the VSN weight of each feature averaged over the window (features in model order). */
  featureImportance: number[][];
  featureNames: string[];
  missing: MissingPosition[];
  metadata: InferenceMetadata;
}

export interface BatchInferenceResult {
  dates: string[];
  symbols: string[];
  /** [symbols, dates], NaN where a symbol has no position on a date. */
  positions: Float32Array;
  rawPositions: Float32Array;
  confidences: Float32Array;
  mu: Float32Array;
  sigma: Float32Array;
  metadata: InferenceMetadata;
}

interface Rolled {
  panel: PricePanel;
  /** Index in panel.dates of the first requested day. */
  first: number;
  raw: Float32Array;
  sized: Float32Array;
  mu: Float32Array;
  sigma: Float32Array;
  vsn: Float32Array;
}

interface RollOutputs {
  /** [assets, days] (NaN where no window), and the VSN weights [assets, days, features]. */
  position: Float32Array;
  mu: Float32Array;
  sigma: Float32Array;
  vsnWeights: Float32Array;
}

function emptyOutputs(A: number, D: number, F: number): RollOutputs {
  const nan = (n: number) => new Float32Array(n).fill(Number.NaN);
  return { position: nan(A * D), mu: nan(A * D), sigma: nan(A * D), vsnWeights: nan(A * D * F) };
}

/** Windows per model call when every window carries its own context set (bounds the copy of the sets). */
const CONTEXT_BATCH = 128;

function calendarDaysBefore(date: string, tradingDays: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  // 7/5 calendar days per trading day, and two weeks of holidays per year of history
  d.setUTCDate(d.getUTCDate() - Math.ceil(tradingDays * 1.45) - 15);
  return d.toISOString().slice(0, 10);
}

function requireDate(d: string, name: string): string {
  if (typeof d !== 'string' || !/^\d{4}-\d\d-\d\d$/.test(d))
    throw new InvalidArgumentError(`${name}: must be YYYY-MM-DD, got ${String(d)}`, name);
  return d;
}

export class TFTInferencePipeline {
  readonly checkpoint: LoadedCheckpoint;
  readonly spec: InputSpec;
  readonly sizing: PositionSizing;
  readonly metadata: InferenceMetadata;
  /** Whether confidences come from the Gaussian head (trained with joint_mle) or from the positions. */
  readonly confidenceSource: 'distribution' | 'conviction';

  private constructor(checkpoint: LoadedCheckpoint, opts: PipelineOptions) {
    const { spec, assumed } = resolveInputSpec(checkpoint.metadata);
    this.checkpoint = checkpoint;
    this.spec = spec;
    this.sizing = { ...spec.positionSizing, ...opts.positionSizing };
    const s = this.sizing;
    if (!(s.maxPosition > 0))
      throw new InvalidArgumentError(`positionSizing.maxPosition: must be > 0, got ${s.maxPosition}`, 'positionSizing');
    if (s.volTarget !== null && !(s.volTarget > 0))
      throw new InvalidArgumentError(`positionSizing.volTarget: must be > 0 or null, got ${s.volTarget}`, 'positionSizing');
    if (!(s.smoothing >= 0 && s.smoothing < 1))
      throw new InvalidArgumentError(`positionSizing.smoothing: must be in [0, 1), got ${s.smoothing}`, 'positionSizing');
    const m = checkpoint.metadata;
    this.confidenceSource = m.trainingInfo?.lossMode === 'joint_mle' ? 'distribution' : 'conviction';
    this.metadata = { version: m.version, modelType: m.modelType, checkpointDir: checkpoint.path, nFeatures: m.nFeatures, assumed };
  }

  /** Loads (and verifies) a checkpoint folder. */
  static async fromCheckpoint(dir: string, opts: PipelineOptions = {}): Promise<TFTInferencePipeline> {
    const c = await CheckpointManager.loadDirectory(dir, { device: opts.device });
    try {
      return new TFTInferencePipeline(c, opts);
    } catch (e) {
      c.model.dispose();
      throw e;
    }
  }

  /** The newest checkpoint of a model type under `root` (default ./checkpoints). */
  static async fromLatest(modelType: string, opts: PipelineOptions & { root?: string } = {}): Promise<TFTInferencePipeline> {
    const c = await new CheckpointManager(opts.root ?? path.resolve('checkpoints')).loadLatest(modelType, { device: opts.device });
    try {
      return new TFTInferencePipeline(c, opts);
    } catch (e) {
      c.model.dispose();
      throw e;
    }
  }

  /** Trading days of history a prediction for one date reads (features, window, smoothing warm-up). */
  get lookbackDays(): number {
    return (
      requiredLookback(this.spec) +
      smoothingWarmup(this.sizing.smoothing) +
      (this.sizing.volTarget !== null ? 2 * this.spec.targets.volSpan : 0)
    );
  }

  /** Positions for one date. */
  async predict(date: string, store: MarketDataStore, opts: { lookbackDays?: number } = {}): Promise<InferenceResult> {
    requireDate(date, 'date');
    const r = await this.#roll(date, date, store, opts.lookbackDays);
    const t = r.panel.dates.indexOf(date);
    if (t < 0) throw new DataError(`date: ${date} is not a trading day of the data`, 'date');
    return this.#dayResult(r, t);
  }

  /** Positions for every trading day of [start, end], in one rolling pass. */
  async predictBatch(range: { start: string; end: string }, store: MarketDataStore): Promise<BatchInferenceResult> {
    requireDate(range.start, 'start');
    requireDate(range.end, 'end');
    if (range.start > range.end) throw new InvalidArgumentError(`start: ${range.start} is after end ${range.end}`, 'start');
    const r = await this.#roll(range.start, range.end, store);
    const D = r.panel.dates.length;
    const A = r.panel.symbols.length;
    const days = D - r.first;
    const cut = (v: Float32Array, f: (x: number, i: number) => number = (x) => x) => {
      const out = new Float32Array(A * days);
      for (let a = 0; a < A; a++) for (let t = 0; t < days; t++) out[a * days + t] = f(v[a * D + r.first + t]!, a * D + r.first + t);
      return out;
    };
    return {
      dates: r.panel.dates.slice(r.first),
      symbols: r.panel.symbols,
      positions: cut(r.sized),
      rawPositions: cut(r.raw),
      confidences: cut(r.raw, (_, i) => this.#confidence(r, i)),
      mu: cut(r.mu),
      sigma: cut(r.sigma),
      metadata: this.metadata,
    };
  }

  /** The trading days of the checkpoint's assets in the store (its calendar). */
  async calendar(store: MarketDataStore): Promise<string[]> {
    return (await store.panel({ symbols: this.#symbolsIn(store), maxFillDays: this.spec.maxFillDays })).dates;
  }

  dispose(): void {
    this.checkpoint.model.dispose();
  }

  #symbolsIn(store: MarketDataStore): string[] {
    const available = new Set(store.symbols());
    const symbols = this.checkpoint.metadata.assetNames.filter((s) => available.has(s));
    if (symbols.length === 0) throw new DataError("symbols: none of the checkpoint's assets are in the data", 'symbols');
    return symbols;
  }

  async #panel(start: string, end: string, store: MarketDataStore, lookback: number): Promise<{ panel: PricePanel; first: number }> {
    const symbols = this.#symbolsIn(store);
    const read = (from?: string) => store.panel({ symbols, end, maxFillDays: this.spec.maxFillDays, ...(from ? { start: from } : {}) });
    let panel = await read(calendarDaysBefore(start, lookback));
    let first = panel.dates.findIndex((d) => d >= start);
    if (first < lookback) {
      panel = await read();
      first = panel.dates.findIndex((d) => d >= start);
    }
    if (first < 0) throw new DataError(`start: no trading day of the data on or after ${start} (through ${end})`, 'start');
    return { panel, first };
  }

  async #roll(start: string, end: string, store: MarketDataStore, lookbackDays?: number): Promise<Rolled> {
    const lookback = lookbackDays ?? this.lookbackDays;
    const { panel, first } = await this.#panel(start, end, store, lookback);
    const m = this.checkpoint.metadata;
    const names = this.spec.features.map((f) => f.name);
    const built = new FeatureBuilder({ names, ohlcv: this.spec.ohlcv }).build(panel, { allowShortHistory: true });
    const fp = applyNormalization(built, normalizationFromJSON(m.normalization!), { clip: this.spec.clip });
    const model = this.checkpoint.model;
    const ids = new Map(m.assetNames.map((s, i) => [s, i] as const));
    const A = panel.symbols.length;
    const D = panel.dates.length;
    const F = names.length;
    const entityIds = model.config.nEntities > 0 ? Int32Array.from(panel.symbols, (s) => ids.get(s)!) : undefined;
    const rolled =
      model.config.nContext > 0
        ? await this.#contextWindows(fp.values, panel.dates, { A, D, F, first }, entityIds)
        : first === D - 1 && smoothingWarmup(this.sizing.smoothing) === 0
          ? await this.#lastWindows(fp.values, A, D, F, entityIds)
          : await this.#rolling(fp.values, A, D, F, first, entityIds);
    const leverage =
      this.sizing.volTarget !== null
        ? buildTargets(panel, { horizons: [1], volSpan: this.spec.targets.volSpan, sigmaTarget: this.sizing.volTarget }).leverage
        : undefined;
    const sized = sizePositions(rolled.position, A, D, this.sizing, leverage);
    return { panel, first, raw: rolled.position, sized, mu: rolled.mu, sigma: rolled.sigma, vsn: rolled.vsnWeights };
  }

  /** One date: each asset's window ending on the last day, as one batch (the fast path for serving). */
  async #lastWindows(values: Float32Array, A: number, D: number, F: number, entityIds: Int32Array | undefined): Promise<RollOutputs> {
    const T = this.spec.window;
    const out = emptyOutputs(A, D, F);
    const rows: number[] = [];
    for (let a = 0; a < A; a++) {
      if (D < T) break;
      const w = values.subarray((a * D + D - T) * F, (a * D + D) * F);
      if (w.every(Number.isFinite)) rows.push(a);
    }
    if (rows.length === 0) return out;
    const x = new Float32Array(rows.length * T * F);
    rows.forEach((a, k) => x.set(values.subarray((a * D + D - T) * F, (a * D + D) * F), k * T * F));
    const p = await this.checkpoint.model.predictBatch(
      { x, batch: rows.length, steps: T, ...(entityIds ? { entityIds: Int32Array.from(rows, (a) => entityIds[a]!) } : {}) },
      { vsnWeights: true },
    );
    rows.forEach((a, k) => {
      out.position[a * D + D - 1] = p.position[k]!;
      out.mu[a * D + D - 1] = p.mu[k]!;
      out.sigma[a * D + D - 1] = p.sigma[k]!;
      out.vsnWeights.set(p.vsnWeights!.subarray(k * T * F, (k + 1) * T * F), (a * D + D - T) * F);
    });
    return out;
  }

  /**
   * Every window ending from the smoothing warm-up before `first` on, in one rolling pass. The features
   * needed the whole lookback; the model only these windows, so the days before them are cut (rolling
   * prediction costs a window per day it is given).
   */
  async #rolling(
    values: Float32Array,
    A: number,
    D: number,
    F: number,
    first: number,
    entityIds: Int32Array | undefined,
  ): Promise<RollOutputs> {
    const m0 = Math.max(0, first - smoothingWarmup(this.sizing.smoothing) - this.spec.window + 1);
    const n = D - m0;
    const cut = new Float32Array(A * n * F);
    for (let a = 0; a < A; a++) cut.set(values.subarray((a * D + m0) * F, (a + 1) * D * F), a * n * F);
    const part = await this.checkpoint.model.predictRolling(
      { values: cut, assets: A, days: n },
      { window: this.spec.window, skipNonFinite: true, vsnWeights: true, ...(entityIds ? { entityIds } : {}) },
    );
    const widen = (v: Float32Array, k = 1) => {
      const out = new Float32Array(A * D * k).fill(Number.NaN);
      for (let a = 0; a < A; a++) out.set(v.subarray(a * n * k, (a + 1) * n * k), (a * D + m0) * k);
      return out;
    };
    return { position: widen(part.position), mu: widen(part.mu), sigma: widen(part.sigma), vsnWeights: widen(part.vsnWeights!, F) };
  }

  /**
   * X-Trend: every window ending from the smoothing warm-up before `first` on, each with the context set of
   * its date (lib/model/context-sampler: drawn from the pool before the window, keyed by the date, so a date
   * gets the same set whatever range is served). Windows go to the model in batches of whole dates.
   */
  async #contextWindows(
    values: Float32Array,
    dates: string[],
    dims: { A: number; D: number; F: number; first: number },
    entityIds: Int32Array | undefined,
  ): Promise<RollOutputs> {
    const { A, D, F, first } = dims;
    const T = this.spec.window;
    const model = this.checkpoint.model;
    const C = model.config.nContext;
    const sampler = new ContextSampler({ values, assets: A, days: D, features: F }, C, this.spec.context!);
    const L = sampler.spec.len;
    const finiteRun = finiteRuns(values, A, D, F);
    const out = emptyOutputs(A, D, F);
    let batch: { a: number; t: number; set: ContextSet }[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const B = batch.length;
      const x = new Float32Array(B * T * F);
      const context = new Float32Array(B * C * L * F);
      const contextIds = new Int32Array(B * C);
      batch.forEach(({ a, t, set }, k) => {
        x.set(values.subarray((a * D + t - T + 1) * F, (a * D + t + 1) * F), k * T * F);
        context.set(set.values, k * C * L * F);
        if (entityIds) set.assets.forEach((ca, c) => (contextIds[k * C + c] = entityIds[ca]!));
      });
      const p = await model.predictBatch(
        {
          x,
          batch: B,
          steps: T,
          context,
          contextLen: L,
          ...(entityIds ? { entityIds: Int32Array.from(batch, ({ a }) => entityIds[a]!), contextEntityIds: contextIds } : {}),
        },
        { vsnWeights: true },
      );
      batch.forEach(({ a, t }, k) => {
        out.position[a * D + t] = p.position[k]!;
        out.mu[a * D + t] = p.mu[k]!;
        out.sigma[a * D + t] = p.sigma[k]!;
        out.vsnWeights.set(p.vsnWeights!.subarray(k * T * F, (k + 1) * T * F), (a * D + t - T + 1) * F);
      });
      batch = [];
    };
    for (let t = Math.max(T - 1, first - smoothingWarmup(this.sizing.smoothing)); t < D; t++) {
      if (sampler.poolSize(t - T + 1) === 0) continue;
      const set = sampler.sample(t - T + 1, dateKey(dates[t]!));
      for (let a = 0; a < A; a++) if (finiteRun[a * D + t]! >= T) batch.push({ a, t, set });
      if (batch.length >= CONTEXT_BATCH) await flush();
    }
    await flush();
    return out;
  }

  #confidence(r: Rolled, i: number): number {
    return this.confidenceSource === 'distribution'
      ? confidenceOf(r.mu[i]!, r.sigma[i]!)
      : convictionOf(r.raw[i]!, this.spec.positionSizing.maxPosition);
  }

  #dayResult(r: Rolled, t: number): InferenceResult {
    const { panel } = r;
    const D = panel.dates.length;
    const F = this.spec.features.length;
    const T = this.spec.window;
    const out: InferenceResult = {
      date: panel.dates[t]!,
      symbols: [],
      positions: [],
      rawPositions: [],
      confidences: [],
      mu: [],
      sigma: [],
      featureImportance: [],
      featureNames: this.spec.features.map((f) => f.name),
      missing: this.checkpoint.metadata.assetNames
        .filter((s) => !panel.symbols.includes(s))
        .map((symbol) => ({ symbol, reason: 'not in the data' as const })),
      metadata: this.metadata,
    };
    panel.symbols.forEach((symbol, a) => {
      const i = a * D + t;
      if (!Number.isFinite(r.sized[i]!)) {
        const reason = Number.isFinite(panel.close[i]!) ? 'too little history or non-finite features' : 'no price on the date';
        out.missing.push({ symbol, reason });
        return;
      }
      out.symbols.push(symbol);
      out.positions.push(r.sized[i]!);
      out.rawPositions.push(r.raw[i]!);
      out.mu.push(r.mu[i]!);
      out.sigma.push(r.sigma[i]!);
      out.confidences.push(this.#confidence(r, i));
      const w = new Array<number>(F).fill(0);
      for (let k = t - T + 1; k <= t; k++) for (let f = 0; f < F; f++) w[f]! += r.vsn[(a * D + k) * F + f]! / T;
      out.featureImportance.push(w);
    });
    return out;
  }
}
