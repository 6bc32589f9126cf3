/**
 * Trainer: trains a TFTModel natively on a panel (features [assets, days, F] and labels [assets, days]) held
 * in JS typed arrays, which it uses in place. Each epoch (forward, Sharpe / joint-MLE loss, backward,
 * clipping, Adam step over shuffled minibatches) runs off the JS thread; progress arrives through callbacks.
 */
import { CancelledError, InvalidArgumentError, ShapeError } from '../errors.js';
import type {
  NativeEpochStats,
  NativeEvalStats,
  NativeLayerGradient,
  NativeLossMode,
  NativeStepProgress,
  NativeTrainer,
  NativeTrainerOptions,
} from '../native/addon-types.js';
import { loadAddon } from '../native/loader.js';
import { TFTModel } from '../model/tft-model.js';
import { Xoshiro128, sampleDistinct } from '../random/index.js';

export type LossMode = NativeLossMode;

/** The options the native trainer takes, passed through as they are (learningRate defaults to 1e-3). */
export type TrainerOptions = NativeTrainerOptions;

export interface TrainingPanel {
  /** Row-major [assets, days, nFeatures]; NaN where a feature is not available. */
  features: Float32Array;
  assets: number;
  days: number;
  /** [assets, days]: the label at day d, the volatility-scaled return from d to d+1. */
  target: Float32Array;
  /** [assets, days]: σ_target / σ_d, the leverage applied to a unit position (for transaction costs). */
  scale?: Float32Array;
  /** One id per asset, required when the model has entities. */
  entityIds?: Int32Array | readonly number[];
}

export type EpochStats = NativeEpochStats;
export type EvalStats = NativeEvalStats;
export type LayerGradient = NativeLayerGradient;
export type StepProgress = NativeStepProgress;

/** A set of windows, each (asset, last day), as flat pairs. */
export class WindowSet {
  constructor(readonly pairs: Int32Array) {
    if (pairs.length % 2 !== 0) throw new ShapeError('windows: must hold (asset, lastDay) pairs', 'windows');
  }
  get size(): number {
    return this.pairs.length / 2;
  }
  /**
   * The windows whose last day ≡ offset (mod stride): with stride = seqLen − warmupSteps, windows of one
   * asset tile its days, so each label enters the loss once per epoch instead of in ~stride overlapping
   * windows (Deep Momentum Networks trains on such non-overlapping segments).
   */
  strided(stride: number, offset: number): WindowSet {
    if (!Number.isInteger(stride) || stride < 1) throw new InvalidArgumentError('stride: must be an integer >= 1', 'stride');
    if (stride === 1) return this;
    const r = ((offset % stride) + stride) % stride;
    const out: number[] = [];
    for (let w = 0; w < this.size; w++) {
      const day = this.pairs[2 * w + 1]!;
      if (day % stride === r) out.push(this.pairs[2 * w]!, day);
    }
    return new WindowSet(Int32Array.from(out));
  }

  /** A seeded random subset of n windows (all of them when n ≥ size). */
  sample(n: number, seed: number): WindowSet {
    if (n >= this.size) return this;
    // Kept in the set's order: the trainer shuffles every epoch itself.
    const chosen = sampleDistinct(this.size, n, new Xoshiro128(seed));
    const out = new Int32Array(2 * n);
    chosen.forEach((w, k) => {
      out[2 * k] = this.pairs[2 * w]!;
      out[2 * k + 1] = this.pairs[2 * w + 1]!;
    });
    return new WindowSet(out);
  }
}

export class Trainer implements Disposable {
  readonly model: TFTModel;
  readonly #native: NativeTrainer;
  #learningRate: number;

  constructor(model: TFTModel, panel: TrainingPanel, options: TrainerOptions = {}) {
    const F = model.config.nFeatures;
    if (panel.features.length !== panel.assets * panel.days * F) {
      throw new ShapeError(
        `features: ${panel.features.length} values, expected assets × days × nFeatures = ${panel.assets} × ${panel.days} × ${F}`,
        'features',
      );
    }
    if (options.costBps && options.costBps > 0 && !panel.scale) {
      throw new InvalidArgumentError('costBps: transaction costs need panel.scale (σ_target / σ_t)', 'costBps');
    }
    const ids = panel.entityIds === undefined ? undefined : Int32Array.from(panel.entityIds);
    this.model = model;
    this.#learningRate = options.learningRate ?? 1e-3;
    this.#native = new (loadAddon().NativeTrainer)(
      TFTModel.nativeOf(model),
      { features: panel.features, assets: panel.assets, days: panel.days, target: panel.target, scale: panel.scale, entityIds: ids },
      { ...options, learningRate: this.#learningRate },
    );
  }

  get learningRate(): number {
    return this.#learningRate;
  }
  set learningRate(lr: number) {
    this.#native.setLearningRate(lr);
    this.#learningRate = lr;
  }

  /**
   * Windows whose days all have finite features and labels, ending in [firstLastDay, lastLastDay] (for an
   * X-Trend model, only those with at least one context sequence ending before they start).
   */
  validWindows(firstLastDay: number, lastLastDay: number): WindowSet {
    return new WindowSet(this.#native.validWindows(firstLastDay, lastLastDay));
  }

  /** Days per context sequence (X-Trend models; 0 for a plain TFT). */
  get contextLength(): number {
    return this.model.config.nContext > 0 ? this.#native.contextLength() : 0;
  }

  /**
   * A context set for predictions from `firstDay` on (e.g. an out-of-sample block): nContext (asset, last
   * day) sequences, each ending before `firstDay`, drawn deterministically from (seed, key).
   */
  sampleContext(firstDay: number, key = 0): WindowSet {
    return new WindowSet(this.#native.sampleContext(firstDay, key));
  }

  /** One pass over the windows in shuffled minibatches. An aborted signal stops between steps (CancelledError). */
  async trainEpoch(
    windows: WindowSet,
    opts: { shuffleSeed?: number; onStep?: (p: StepProgress) => void; signal?: AbortSignal } = {},
  ): Promise<EpochStats> {
    if (opts.signal?.aborted) throw new CancelledError('training was cancelled before the epoch started', 'signal');
    const abort = () => this.#native.cancel();
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      return await this.#native.trainEpoch(windows.pairs, opts.shuffleSeed ?? 0, opts.onStep);
    } finally {
      opts.signal?.removeEventListener('abort', abort);
    }
  }

  /** Loss and Sharpe over the windows (dropout off), computed over the whole set at once. */
  evaluate(windows: WindowSet): Promise<EvalStats> {
    return this.#native.evaluate(windows.pairs);
  }

  /** Mean VSN weight of each feature over the windows' steps (sums to 1): what the model attends to. */
  vsnImportance(windows: WindowSet): Promise<Float64Array> {
    return this.#native.vsnImportance(windows.pairs);
  }

  saveBest(): void {
    this.#native.saveBest();
  }
  restoreBest(): void {
    this.#native.restoreBest();
  }

  dispose(): void {
    this.#native.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}
