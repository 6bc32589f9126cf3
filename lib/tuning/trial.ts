/**
 * The trial an objective receives, in Optuna's shape (camelCase): suggestFloat / suggestInt /
 * suggestCategorical, report, shouldPrune, setUserAttr.
 *
 * Suggestions are synchronous, as in Optuna: the sampler works on the study as read when the trial
 * started. Writes to the storage are queued in order; report() and shouldPrune() wait for them, and the
 * study waits for all of them before it finishes the trial, so nothing a trial did is lost.
 */
import { InvalidArgumentError } from '../errors.js';
import {
  categoricalDistribution,
  contains,
  floatDistribution,
  intDistribution,
  sameDistribution,
  toExternal,
  toInternal,
  type CategoricalChoice,
  type Distribution,
  type ParamValue,
} from './distributions.js';
import type { Direction, FrozenTrial } from './frozen-trial.js';
import type { Pruner } from './pruners/median-pruner.js';
import type { Sampler, StudyView } from './samplers/sampler.js';
import type { StudyStorage } from './storage/storage.js';

/** Thrown by an objective (or `trial.prune()`) to end the trial as PRUNED. */
export class TrialPruned extends Error {
  override get name(): string {
    return 'TrialPruned';
  }
}

export interface TrialContext {
  storage: StudyStorage;
  studyId: number;
  direction: Direction;
  sampler: Sampler;
  pruner: Pruner;
  /** The study's trials when this trial started. */
  view: StudyView;
}

export class Trial {
  readonly #ctx: TrialContext;
  readonly #frozen: FrozenTrial;
  readonly #relativeSpace: Record<string, Distribution>;
  readonly #relative: Record<string, number>;
  readonly #params: Record<string, ParamValue> = {};
  readonly #distributions: Record<string, Distribution> = {};
  readonly #intermediate = new Map<number, number>();
  readonly #userAttrs: Record<string, unknown> = {};
  #writes: Promise<void> = Promise.resolve();
  #writeError: unknown;

  constructor(ctx: TrialContext, frozen: FrozenTrial) {
    this.#ctx = ctx;
    // A private copy: the storage's own record changes only through the writes below.
    this.#frozen = {
      ...frozen,
      params: { ...frozen.params },
      internalParams: { ...frozen.internalParams },
      distributions: { ...frozen.distributions },
      intermediateValues: new Map(frozen.intermediateValues),
    };
    Object.assign(this.#params, frozen.params);
    Object.assign(this.#distributions, frozen.distributions);
    this.#relativeSpace = ctx.sampler.inferRelativeSearchSpace(ctx.view, frozen);
    this.#relative = ctx.sampler.sampleRelative(ctx.view, frozen, this.#relativeSpace);
  }

  get number(): number {
    return this.#frozen.number;
  }
  get trialId(): number {
    return this.#frozen.trialId;
  }
  get params(): Readonly<Record<string, ParamValue>> {
    return { ...this.#params };
  }
  get distributions(): Readonly<Record<string, Distribution>> {
    return { ...this.#distributions };
  }
  get intermediateValues(): ReadonlyMap<number, number> {
    return new Map(this.#intermediate);
  }
  /** The trial as recorded so far (params, intermediate values), for callers that finish it. */
  get frozen(): FrozenTrial {
    return this.#frozen;
  }
  get userAttrs(): Readonly<Record<string, unknown>> {
    return { ...this.#userAttrs };
  }

  suggestFloat(name: string, low: number, high: number, opts: { log?: boolean; step?: number | null } = {}): number {
    return this.#suggest(name, floatDistribution(name, low, high, opts)) as number;
  }

  suggestInt(name: string, low: number, high: number, opts: { log?: boolean; step?: number } = {}): number {
    return this.#suggest(name, intDistribution(name, low, high, opts)) as number;
  }

  suggestCategorical<T extends CategoricalChoice>(name: string, choices: readonly T[]): T {
    return this.#suggest(name, categoricalDistribution(name, choices)) as T;
  }

  /**
   * Records the objective's value at a step (a walk-forward fold); a step reported twice keeps its first
   * value. The promise resolves once the write is done; a failed write surfaces at shouldPrune() or when
   * the trial ends, so an un-awaited report never goes unhandled.
   */
  report(value: number, step: number): Promise<void> {
    if (!Number.isInteger(step) || step < 0) throw new InvalidArgumentError(`report: step must be an integer ≥ 0, got ${step}`, 'step');
    if (typeof value !== 'number') throw new InvalidArgumentError(`report: value must be a number, got ${typeof value}`, 'value');
    if (this.#intermediate.has(step)) return this.#writes;
    this.#intermediate.set(step, value);
    this.#frozen.intermediateValues.set(step, value);
    this.#enqueue(() => this.#ctx.storage.setTrialIntermediateValue(this.trialId, step, value));
    return this.#writes;
  }

  /** Whether the pruner stops this trial now, judged against the study as it is in the storage now. */
  async shouldPrune(): Promise<boolean> {
    await this.flush();
    const trials = await this.#ctx.storage.getTrials(this.#ctx.studyId);
    const self: FrozenTrial = { ...this.#frozen, intermediateValues: new Map(this.#intermediate) };
    return this.#ctx.pruner.prune({ direction: this.#ctx.direction, trials }, self);
  }

  setUserAttr(key: string, value: unknown): Promise<void> {
    this.#userAttrs[key] = value;
    this.#enqueue(() => this.#ctx.storage.setTrialUserAttr(this.trialId, key, value));
    return this.#writes;
  }

  /** Resolves once every queued write is durable; rejects with the first write that failed. */
  async flush(): Promise<void> {
    await this.#writes;
    if (this.#writeError !== undefined) throw this.#writeError;
  }

  #enqueue(write: () => Promise<void>): void {
    this.#writes = this.#writes.then(write).catch((err: unknown) => {
      this.#writeError ??= err;
    });
  }

  #suggest(name: string, d: Distribution): ParamValue {
    const existing = this.#distributions[name];
    if (existing) {
      if (!sameDistribution(existing, d) && existing.kind !== d.kind) {
        throw new InvalidArgumentError(`parameter '${name}' was suggested before from a different kind of distribution`, name);
      }
      return this.#params[name]!;
    }
    const internal = this.#draw(name, d);
    const value = toExternal(d, internal);
    this.#params[name] = value;
    this.#distributions[name] = d;
    this.#frozen.params[name] = value;
    this.#frozen.internalParams[name] = internal;
    this.#frozen.distributions[name] = d;
    this.#enqueue(() => this.#ctx.storage.setTrialParam(this.trialId, name, internal, d));
    return value;
  }

  #draw(name: string, d: Distribution): number {
    const fixed = (this.#frozen.systemAttrs.fixed_params as Record<string, ParamValue> | undefined)?.[name];
    if (fixed !== undefined) {
      const internal = toInternal(d, fixed);
      if (!contains(d, internal))
        throw new InvalidArgumentError(`enqueued value ${JSON.stringify(fixed)} of '${name}' is outside its distribution`, name);
      return internal;
    }
    const rel = this.#relativeSpace[name];
    if (rel && sameDistribution(rel, d) && name in this.#relative) return this.#relative[name]!;
    return this.#ctx.sampler.sampleIndependent(this.#ctx.view, this.#frozen, name, d);
  }
}
