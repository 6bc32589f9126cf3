/**
 * TFTStrategy: a checkpoint as a Strategy. The pipeline loads on the first scan (a registry can hold many
 * strategies without loading their models); a signal is emitted only where |position| exceeds the
 * conviction threshold. Its id is `s_tft_<modelType>_v<version>`, known once the checkpoint is loaded.
 */
import type { MarketDataStore } from '../data/market-data-store.js';
import { InvalidArgumentError } from '../errors.js';
import { TFTInferencePipeline, type PipelineOptions } from '../inference/pipeline.js';
import type { Direction, Signal, Strategy } from './protocol.js';

export interface TFTStrategyOptions extends PipelineOptions {
  /** A checkpoint folder, or the newest of a model type under a root. */
  checkpoint?: string;
  latest?: { modelType: string; root?: string };
  /** |position| above which a signal is emitted (default 0.3). */
  convictionThreshold?: number;
  /** Trading days a signal holds (default 1: the model predicts the next day). */
  horizonDays?: number;
}

export class TFTStrategy implements Strategy {
  readonly #o: TFTStrategyOptions;
  #pipeline: TFTInferencePipeline | undefined;
  #loading: Promise<TFTInferencePipeline> | undefined;

  constructor(o: TFTStrategyOptions) {
    if (!o.checkpoint === !o.latest) throw new InvalidArgumentError('TFTStrategy: give either checkpoint or latest', 'checkpoint');
    const t = o.convictionThreshold ?? 0.3;
    if (!(t >= 0)) throw new InvalidArgumentError(`convictionThreshold: must be >= 0, got ${t}`, 'convictionThreshold');
    const h = o.horizonDays ?? 1;
    if (!Number.isInteger(h) || h < 1) throw new InvalidArgumentError(`horizonDays: must be an integer >= 1, got ${h}`, 'horizonDays');
    this.#o = o;
  }

  /** `s_tft_<modelType>_v<version>` once loaded; before, from what the options say. */
  get id(): string {
    const m = this.#pipeline?.metadata;
    if (m) return `s_tft_${m.modelType}_v${m.version}`;
    return this.#o.latest ? `s_tft_${this.#o.latest.modelType}_latest` : `s_tft_${this.#o.checkpoint}`;
  }

  get loaded(): boolean {
    return this.#pipeline !== undefined;
  }

  describe(): string {
    const m = this.#pipeline?.metadata;
    const source = m
      ? `${m.modelType} v${m.version} (${m.checkpointDir})`
      : (this.#o.checkpoint ?? `the latest ${this.#o.latest!.modelType}`);
    return `TFT positions of ${source}; a signal where |position| > ${this.#o.convictionThreshold ?? 0.3}`;
  }

  async pipeline(): Promise<TFTInferencePipeline> {
    if (this.#pipeline) return this.#pipeline;
    this.#loading ??= this.#o.checkpoint
      ? TFTInferencePipeline.fromCheckpoint(this.#o.checkpoint, this.#o)
      : TFTInferencePipeline.fromLatest(this.#o.latest!.modelType, { ...this.#o, root: this.#o.latest!.root });
    this.#pipeline = await this.#loading;
    return this.#pipeline;
  }

  async scan(date: string, store: MarketDataStore): Promise<Signal[]> {
    const p = await this.pipeline();
    const r = await p.predict(date, store);
    const threshold = this.#o.convictionThreshold ?? 0.3;
    const createdAt = new Date().toISOString();
    const out: Signal[] = [];
    r.symbols.forEach((symbol, i) => {
      const z = r.positions[i]!;
      if (!(Math.abs(z) > threshold)) return;
      const direction: Direction = z > 0 ? 'long' : z < 0 ? 'short' : 'flat';
      out.push({
        symbol,
        date: r.date,
        direction,
        targetPosition: z,
        rawPosition: r.rawPositions[i]!,
        confidence: r.confidences[i]!,
        expectedReturn: p.confidenceSource === 'distribution' ? r.mu[i]! : null,
        horizonDays: this.#o.horizonDays ?? 1,
        strategyId: this.id,
        modelType: r.metadata.modelType,
        checkpointVersion: r.metadata.version,
        createdAt,
      });
    });
    return out;
  }

  dispose(): void {
    this.#pipeline?.dispose();
    this.#pipeline = undefined;
    this.#loading = undefined;
  }
}
