/**
 * TFTModel: the native Temporal Fusion Transformer / X-Trend model (docs/model.md).
 *
 *  - predict(): synchronous, for small inputs (a few sequences); blocks the event loop while it runs.
 *  - predictBatch(): off the JS thread, chunked so memory stays bounded whatever the batch size.
 *  - predictRolling(): every window ending on every day of an [assets, days, features] panel, computing the
 *    per-day Variable Selection work once and reusing it for the T windows that contain the day.
 *
 * Inputs are row-major Float32Arrays used in place (not copied); outputs are fresh Float32Arrays.
 */
import { DTypeError, InvalidArgumentError, OutOfRangeError, ShapeError } from '../errors.js';
import type { NativePrediction, NativeTensor, NativeTftModel } from '../native/addon-types.js';
import { loadAddon } from '../native/loader.js';
import { requireUnshared } from '../native/unshared.js';
import { resolveConfig, type TFTConfig, type TFTConfigInput } from './config.js';

export type Device = 'cpu' | 'cuda';
export type NanPolicy = 'error' | 'zero';

export interface ModelInput {
  /** Features, row-major [batch, steps, nFeatures]. */
  x: Float32Array;
  batch: number;
  /** Time steps per sequence; defaults to config.seqLen. */
  steps?: number;
  /** One asset id per sequence, required when config.nEntities > 0. */
  entityIds?: Int32Array | readonly number[];
  /** X-Trend context set, row-major [batch, nContext, contextLen, nFeatures]; required when nContext > 0. */
  context?: Float32Array;
  contextLen?: number;
  /** Asset ids of the context sequences [batch, nContext], required with entities and a context set. */
  contextEntityIds?: Int32Array | readonly number[];
}

export interface PredictOptions {
  /** Outputs for every step ([batch, steps]) instead of the last ([batch]). */
  allSteps?: boolean;
  /** Also return the VSN weights [batch, steps, nFeatures]: what the model attends to, per feature. */
  vsnWeights?: boolean;
  /** Also return self-attention weights (heads averaged): [batch, steps] for the last step, or [batch, steps, steps]. */
  attention?: boolean;
  /** 'error' (default): NaN/Inf in the input is a typed error. 'zero': treated as 0. */
  nanPolicy?: NanPolicy;
  /** Sequences per native chunk (default: chosen from a ~128 MiB working-set budget). */
  chunkSize?: number;
}

export interface Prediction {
  /** Positions z = maxPosition · tanh(·): [batch] or [batch, steps]. */
  position: Float32Array;
  /** Gaussian head: mean and standard deviation (> 0) of the next-day return. */
  mu: Float32Array;
  sigma: Float32Array;
  vsnWeights?: Float32Array;
  attention?: Float32Array;
  batch: number;
  steps: number;
}

export interface RollingPanel {
  /** Row-major [assets, days, nFeatures] (a FeaturePanel's `values` has this layout). */
  values: Float32Array;
  assets: number;
  days: number;
}

export interface RollingOptions {
  /** Window length T (default config.seqLen). Days before the first full window are NaN. */
  window?: number;
  nanPolicy?: NanPolicy;
  /** Windows containing a non-finite feature give NaN outputs instead of an error (feature warm-up, gaps). */
  skipNonFinite?: boolean;
  /** Also return the per-(asset, day) VSN weights [assets, days, nFeatures]. */
  vsnWeights?: boolean;
  entityIds?: Int32Array | readonly number[];
  /** A context set shared by every window (X-Trend models): [nContext, contextLen, nFeatures]. */
  context?: Float32Array;
  contextLen?: number;
  contextEntityIds?: Int32Array | readonly number[];
  chunkWindows?: number;
}

export interface RollingPrediction {
  /** [assets, days]; NaN where no full window ends or the window was skipped. */
  position: Float32Array;
  mu: Float32Array;
  sigma: Float32Array;
  vsnWeights?: Float32Array;
  assets: number;
  days: number;
}

export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** Parameter name → tensor, in the documented order (docs/model.md). */
export type StateDict = Map<string, TensorData>;

const INT32_MAX = 2 ** 31 - 1;

/**
 * Entity / context ids as an Int32Array. An id that is not an integer, or lies outside int32 (where
 * Int32Array.from would wrap it: 2^32 + 1 would silently become 1), is refused here; the native side checks
 * the model's own range [0, nEntities).
 */
function ids(v: Int32Array | readonly number[] | undefined, name: string, nEntities: number): Int32Array | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Int32Array) return requireUnshared(v, name);
  if (!Array.isArray(v)) throw new DTypeError(`${name}: must be an Int32Array or an array of integers`, name);
  return Int32Array.from(v, (x: unknown) => {
    if (typeof x !== 'number' || !Number.isInteger(x))
      throw new InvalidArgumentError(`${name}: ids must be integers, got ${String(x)}`, name);
    // Negative ids pass to the native range check; only what int32 cannot hold must be stopped here.
    if (x < -INT32_MAX - 1 || x > INT32_MAX) throw new OutOfRangeError(`${name}: entity id ${x} is outside [0, ${nEntities})`, name);
    return x;
  });
}

function requireFloat32(v: unknown, name: string): Float32Array {
  if (!(v instanceof Float32Array)) throw new DTypeError(`${name}: must be a Float32Array`, name);
  return requireUnshared(v, name);
}

/** @internal An options or input argument that must be an object (InvalidArgumentError naming it). */
export function requireObject<T>(v: T, name: string): NonNullable<T> {
  if (typeof v !== 'object' || v === null) throw new InvalidArgumentError(`${name}: must be an object`, name);
  return v as NonNullable<T>;
}

/**
 * @internal The native form of a model input: its step count and the typed arrays the addon reads (ids as
 * Int32Array). Shapes are the core's to check; only what the conversion itself needs is checked here.
 */
export function modelInputArgs(config: TFTConfig, input: ModelInput) {
  requireObject(input, 'input');
  requireFloat32(input.x, 'x');
  const steps = input.steps ?? config.seqLen;
  if (!Number.isInteger(input.batch) || input.batch < 0) throw new ShapeError(`x: batch must be an integer >= 0, got ${input.batch}`, 'x');
  if (!Number.isInteger(steps) || steps < 1) throw new ShapeError(`x: steps must be an integer >= 1, got ${steps}`, 'x');
  if (input.context !== undefined) requireFloat32(input.context, 'context');
  return {
    steps,
    entityIds: ids(input.entityIds, 'entityIds', config.nEntities),
    context: input.context,
    contextLen: input.contextLen,
    contextEntityIds: ids(input.contextEntityIds, 'contextEntityIds', config.nEntities),
  };
}

function isRollingPanel(p: unknown): p is RollingPanel {
  return typeof p === 'object' && p !== null && 'values' in p && 'assets' in p && 'days' in p;
}

export class TFTModel implements Disposable {
  readonly config: TFTConfig;
  readonly device: Device;
  readonly #native: NativeTftModel;

  private constructor(config: TFTConfig, device: Device, native: NativeTftModel) {
    this.config = Object.freeze({ ...config });
    this.device = device;
    this.#native = native;
  }

  /** Builds a model with seeded initial weights (same seed → same weights). */
  static create(config: TFTConfigInput, options: { device?: Device } = {}): TFTModel {
    const resolved = resolveConfig(config);
    const device = options.device ?? 'cpu';
    const addon = loadAddon();
    return new TFTModel(resolved, device, new addon.NativeTftModel(resolved, device));
  }

  get numParameters(): number {
    return this.#native.numParameters();
  }

  /** Parameter names and shapes, in order. */
  parameterSpecs(): { name: string; shape: number[] }[] {
    return this.#native.parameterSpecs();
  }

  #predictArgs(input: ModelInput, opts: PredictOptions) {
    requireObject(opts, 'options');
    const { steps, ...inputs } = modelInputArgs(this.config, input);
    return {
      steps,
      native: {
        allSteps: opts.allSteps,
        vsnWeights: opts.vsnWeights,
        attention: opts.attention,
        nanPolicy: opts.nanPolicy,
        chunkSize: opts.chunkSize,
        ...inputs,
      },
    };
  }

  #wrap(p: NativePrediction, batch: number, steps: number): Prediction {
    return { ...p, batch, steps };
  }

  /** Synchronous prediction for small inputs. */
  predict(input: ModelInput, opts: PredictOptions = {}): Prediction {
    const { steps, native } = this.#predictArgs(input, opts);
    return this.#wrap(this.#native.predictSync(input.x, input.batch, steps, native), input.batch, steps);
  }

  /** Prediction off the JS thread, chunked; the input array must not be modified until it resolves. */
  async predictBatch(input: ModelInput, opts: PredictOptions = {}): Promise<Prediction> {
    const { steps, native } = this.#predictArgs(input, opts);
    return this.#wrap(await this.#native.predict(input.x, input.batch, steps, native), input.batch, steps);
  }

  /**
   * Outputs of every window ending on every day of a panel. Equal (to 1e-6) to predictBatch on the same
   * windows, at a fraction of the cost: the VSN runs once per (asset, day) instead of once per window.
   */
  async predictRolling(
    panel: RollingPanel | { values: Float32Array; symbols: readonly string[]; dates: readonly string[] },
    opts: RollingOptions = {},
  ): Promise<RollingPrediction> {
    requireObject(panel, 'panel');
    requireObject(opts, 'options');
    const p: RollingPanel = isRollingPanel(panel)
      ? panel
      : { values: panel.values, assets: panel.symbols.length, days: panel.dates.length };
    requireFloat32(p.values, 'panel');
    if (opts.context !== undefined) requireFloat32(opts.context, 'context');
    const r = await this.#native.predictRolling(p.values, p.assets, p.days, {
      window: opts.window,
      nanPolicy: opts.nanPolicy,
      skipNonFinite: opts.skipNonFinite,
      vsnWeights: opts.vsnWeights,
      chunkWindows: opts.chunkWindows,
      entityIds: ids(opts.entityIds, 'entityIds', this.config.nEntities),
      context: opts.context,
      contextLen: opts.contextLen,
      contextEntityIds: ids(opts.contextEntityIds, 'contextEntityIds', this.config.nEntities),
    });
    return { ...r, assets: p.assets, days: p.days };
  }

  /** A copy of every parameter, by name. */
  stateDict(): StateDict {
    return new Map(this.#native.stateDict().map((t) => [t.name, { shape: t.shape, data: t.data }]));
  }

  /**
   * Replaces every parameter. The whole dict is checked first (missing, unexpected, misshapen or non-finite
   * tensors raise StateDictError / NonFiniteError naming the tensor); on error nothing changes.
   */
  loadStateDict(state: StateDict | Record<string, TensorData>): void {
    const entries: NativeTensor[] = [];
    const it = state instanceof Map ? state.entries() : Object.entries(state);
    for (const [name, t] of it) entries.push({ name, shape: t.shape, data: requireFloat32(t.data, name) });
    this.#native.loadStateDict(entries);
  }

  /** Writes the weights as safetensors (float32), with optional string metadata; fsynced. */
  saveWeights(path: string, metadata: Record<string, string> = {}): Promise<void> {
    return this.#native.saveSafetensors(path, metadata);
  }

  /** Loads weights from a safetensors file (bounds-checked, validated against this configuration). */
  loadWeights(path: string): Promise<void> {
    return this.#native.loadSafetensors(path);
  }

  /** @internal The native object, for the trainer of this package. */
  static nativeOf(model: TFTModel): NativeTftModel {
    return model.#native;
  }

  /** Frees the native weights now instead of at garbage collection. Later calls raise DisposedError. */
  dispose(): void {
    this.#native.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export interface SafetensorsHeader {
  tensors: { name: string; dtype: string; shape: number[] }[];
  metadata: Record<string, string>;
}

/**
 * The parameters (names and shapes, in weights-file order) a model of this config has, without building
 * it: what a weights file must hold before any memory is allocated for it. An invalid config is a typed
 * error naming the field, as TFTModel.create.
 */
export function parameterSpecsFor(config: TFTConfigInput): { name: string; shape: number[] }[] {
  return loadAddon().parameterSpecsFor(resolveConfig(config));
}

/** Parses and validates a safetensors header without reading the tensors (CorruptFileError on any defect). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  return loadAddon().readSafetensorsHeader(path);
}

/** Reads every tensor of a safetensors file as float32, validated. */
export async function readSafetensors(path: string): Promise<StateDict> {
  const tensors = await loadAddon().readSafetensors(path);
  return new Map(tensors.map((t) => [t.name, { shape: t.shape, data: t.data }]));
}
