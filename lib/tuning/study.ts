/**
 * A study in Optuna's shape: createStudy / loadStudy, study.optimize(objective, { nTrials, timeout,
 * callbacks }), ask / tell, enqueueTrial, bestTrial / bestValue / bestParams / trials.
 *
 * Several workers — processes on one machine sharing a journal file, or machines sharing PostgreSQL —
 * run one study by opening it under the same name: each trial is created (or a WAITING one claimed)
 * through the storage, which never issues a trial number twice. A worker killed mid-trial leaves that
 * trial RUNNING; failStaleTrials() (run by `tft-native tune --resume`) marks it FAIL and re-queues its
 * parameters as a WAITING trial, so at most the running trial's work is lost.
 */
import { hostname } from 'node:os';

import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ParamValue } from './distributions.js';
import { TrialState, type Direction, type FrozenTrial, type StudyRecord } from './frozen-trial.js';
import { MedianPruner, type Pruner } from './pruners/median-pruner.js';
import type { Sampler } from './samplers/sampler.js';
import { TPESampler } from './samplers/tpe-sampler.js';
import { openStorage, type StorageSpec } from './storage/open-storage.js';
import type { StudyStorage } from './storage/storage.js';
import { Trial, TrialPruned } from './trial.js';

export const WORKER_ATTR = 'tft_native:worker';

export interface CreateStudyOptions {
  studyName?: string;
  direction?: Direction;
  /** A StudyStorage, 'journal:<path>', a path ending in .log / .jsonl, 'postgresql://…', or nothing (in memory). */
  storage?: StorageSpec;
  sampler?: Sampler;
  pruner?: Pruner;
  /** Open the study when one of that name exists (with its direction) instead of failing. */
  loadIfExists?: boolean;
}

export type Objective = (trial: Trial) => number | Promise<number>;
export type StudyCallback = (study: Study, trial: FrozenTrial) => void | Promise<void>;

export interface OptimizeOptions {
  /** Trials this call runs (every call counts its own, as in Optuna). */
  nTrials?: number;
  /** Stop starting trials after this many seconds. */
  timeout?: number;
  /** Stop once the study holds this many trials that did not fail (counting every worker's). */
  maxTrialsInStudy?: number;
  callbacks?: StudyCallback[];
  /** Errors the study records as FAIL and goes on after (default: none, the error ends optimize). */
  catch?: (err: unknown) => boolean;
  signal?: AbortSignal;
}

export async function createStudy(opts: CreateStudyOptions = {}): Promise<Study> {
  const storage = await openStorage(opts.storage);
  const name = opts.studyName ?? `no-name-${crypto.randomUUID()}`;
  const direction = opts.direction ?? 'minimize';
  if (direction !== 'minimize' && direction !== 'maximize')
    throw new InvalidArgumentError(`direction: 'minimize' or 'maximize', got ${String(direction)}`, 'direction');
  let record = opts.loadIfExists ? await storage.findStudy(name) : undefined;
  record ??= await storage.createStudy(name, [direction]);
  return new Study(record, storage, opts.sampler ?? new TPESampler(), opts.pruner ?? new MedianPruner());
}

export async function loadStudy(opts: { studyName: string; storage: StorageSpec; sampler?: Sampler; pruner?: Pruner }): Promise<Study> {
  const storage = await openStorage(opts.storage);
  const record = await storage.findStudy(opts.studyName);
  if (!record) throw new NotFoundError(`no study named '${opts.studyName}' in ${storage.description}`, 'studyName');
  return new Study(record, storage, opts.sampler ?? new TPESampler(), opts.pruner ?? new MedianPruner());
}

export class Study {
  readonly studyName: string;
  readonly studyId: number;
  readonly direction: Direction;
  #trials: FrozenTrial[] = [];

  constructor(
    record: StudyRecord,
    readonly storage: StudyStorage,
    readonly sampler: Sampler,
    readonly pruner: Pruner,
  ) {
    this.studyName = record.studyName;
    this.studyId = record.studyId;
    this.direction = record.directions[0] ?? 'minimize';
  }

  /** Every trial, as of the last refresh() (optimize, ask and tell refresh). */
  get trials(): readonly FrozenTrial[] {
    return this.#trials;
  }

  async refresh(): Promise<readonly FrozenTrial[]> {
    this.#trials = await this.storage.getTrials(this.studyId);
    return this.#trials;
  }

  get bestTrial(): FrozenTrial {
    const done = this.#trials.filter((t) => t.state === TrialState.COMPLETE && t.value !== null && !Number.isNaN(t.value));
    if (done.length === 0) throw new NotFoundError(`study '${this.studyName}' has no completed trial yet`, 'bestTrial');
    const better = (a: FrozenTrial, b: FrozenTrial) => (this.direction === 'maximize' ? a.value! > b.value! : a.value! < b.value!);
    return done.reduce((best, t) => (better(t, best) ? t : best));
  }
  get bestValue(): number {
    return this.bestTrial.value!;
  }
  get bestParams(): Record<string, ParamValue> {
    return { ...this.bestTrial.params };
  }

  /** Queues a trial with fixed parameters; the next trial any worker starts takes it. */
  async enqueueTrial(params: Record<string, ParamValue>, userAttrs: Record<string, unknown> = {}): Promise<FrozenTrial> {
    return this.storage.createTrial(this.studyId, { state: TrialState.WAITING, systemAttrs: { fixed_params: params }, userAttrs });
  }

  /** Starts a trial: a WAITING one if any is queued, else a new one. */
  async ask(): Promise<Trial> {
    return (await this.#askBelow(Infinity))!;
  }

  /**
   * ask, unless the study already holds `maxLive` trials that did not fail (a queued trial is already
   * counted, so claiming one is always allowed): the check and the creation are one atomic storage step,
   * so workers sharing `maxTrialsInStudy` never overshoot it.
   */
  async #askBelow(maxLive: number): Promise<Trial | undefined> {
    const worker = { host: hostname(), pid: process.pid };
    const frozen =
      (await this.storage.claimWaitingTrial(this.studyId)) ??
      (await this.storage.createTrialBelow(this.studyId, maxLive, { systemAttrs: { [WORKER_ATTR]: worker } }));
    if (!frozen) return undefined;
    if (frozen.systemAttrs[WORKER_ATTR] === undefined) await this.storage.setTrialSystemAttr(frozen.trialId, WORKER_ATTR, worker);
    const trials = await this.refresh();
    return new Trial(
      {
        storage: this.storage,
        studyId: this.studyId,
        direction: this.direction,
        sampler: this.sampler,
        pruner: this.pruner,
        view: { direction: this.direction, trials },
      },
      frozen,
    );
  }

  /**
   * Finishes a trial: a finite value → COMPLETE; 'pruned' → PRUNED (its value the last intermediate one,
   * as Optuna records it); 'fail' or a non-finite value → FAIL.
   */
  async tell(trial: Trial, result: number | 'pruned' | 'fail', reason?: string): Promise<FrozenTrial> {
    await trial.flush();
    if (result === 'pruned') {
      const steps = [...trial.intermediateValues.keys()];
      const last = steps.length ? trial.intermediateValues.get(Math.max(...steps))! : null;
      await this.storage.setTrialState(trial.trialId, TrialState.PRUNED, last !== null && Number.isFinite(last) ? last : null);
    } else if (typeof result === 'number' && Number.isFinite(result)) {
      await this.storage.setTrialState(trial.trialId, TrialState.COMPLETE, result);
    } else {
      const why = reason ?? (typeof result === 'number' ? `the objective returned ${result}` : 'failed');
      await this.storage.setTrialUserAttr(trial.trialId, 'fail_reason', why);
      await this.storage.setTrialState(trial.trialId, TrialState.FAIL);
    }
    await this.refresh();
    return this.storage.getTrial(trial.trialId);
  }

  async optimize(objective: Objective, opts: OptimizeOptions = {}): Promise<void> {
    const t0 = Date.now();
    const nTrials = opts.nTrials ?? Infinity;
    if (nTrials === Infinity && opts.timeout === undefined && opts.maxTrialsInStudy === undefined && !opts.signal) {
      throw new InvalidArgumentError('optimize: give nTrials, timeout, maxTrialsInStudy or a signal, or it never ends', 'nTrials');
    }
    for (let n = 0; n < nTrials; n++) {
      if (opts.signal?.aborted) break;
      if (opts.timeout !== undefined && (Date.now() - t0) / 1000 >= opts.timeout) break;
      if (opts.maxTrialsInStudy !== undefined && (await this.#liveTrialCount()) >= opts.maxTrialsInStudy) break;
      const frozen = await this.#runTrial(objective, opts);
      if (!frozen) break;
      for (const cb of opts.callbacks ?? []) await cb(this, frozen);
    }
    await this.refresh();
  }

  /** One trial from ask to tell; undefined when the study's trial budget was used up meanwhile. */
  async #runTrial(objective: Objective, opts: OptimizeOptions): Promise<FrozenTrial | undefined> {
    // With a storage that has heartbeats (PostgreSQL), a dead worker's trial is reclaimed by the next
    // worker that starts one.
    if (this.storage.staleRunningTrials) await this.failStaleTrials({ requeue: true });
    const trial = await this.#askBelow(opts.maxTrialsInStudy ?? Infinity);
    if (!trial) return undefined;
    const beat = this.#heartbeat(trial.trialId);
    let result: number | 'pruned' | 'fail';
    let reason: string | undefined;
    try {
      const v = await objective(trial);
      result = typeof v === 'number' ? v : 'fail';
      if (typeof v !== 'number') reason = `the objective returned ${typeof v}, not a number`;
    } catch (err) {
      if (err instanceof TrialPruned) result = 'pruned';
      else {
        clearInterval(beat);
        await this.tell(trial, 'fail', err instanceof Error ? err.message : String(err));
        if (!opts.catch?.(err)) throw err;
        return this.storage.getTrial(trial.trialId);
      }
    }
    clearInterval(beat);
    return this.tell(trial, result, reason);
  }

  /** Stamps a running trial every third of the storage's grace period, off the trial's own work. */
  #heartbeat(trialId: number): ReturnType<typeof setInterval> | undefined {
    const grace = this.storage.heartbeatGraceSeconds;
    if (!this.storage.heartbeat || !grace) return undefined;
    const timer = setInterval(() => void this.storage.heartbeat!(trialId).catch(() => {}), (grace * 1000) / 3);
    timer.unref();
    return timer;
  }

  async #liveTrialCount(): Promise<number> {
    return (await this.refresh()).filter((t) => t.state !== TrialState.FAIL).length;
  }

  /**
   * RUNNING trials whose worker is gone — its process on this machine no longer exists, or (storages with
   * heartbeats) it stopped stamping the trial — marked FAIL (fail_reason says why) and, with requeue, their
   * parameters queued again as a WAITING trial.
   */
  async failStaleTrials(opts: { requeue?: boolean } = {}): Promise<FrozenTrial[]> {
    const silent = new Set((await this.storage.staleRunningTrials?.(this.studyId))?.map((t) => t.trialId));
    const stale = (await this.refresh()).filter(
      (t) => t.state === TrialState.RUNNING && (silent.has(t.trialId) || isDeadLocalWorker(t.systemAttrs[WORKER_ATTR])),
    );
    for (const t of stale) {
      try {
        await this.storage.setTrialUserAttr(t.trialId, 'fail_reason', 'its worker died while the trial ran');
        await this.storage.setTrialState(t.trialId, TrialState.FAIL);
      } catch (err) {
        // Another worker reclaimed it (or its own worker finished it) in the meantime.
        if (err instanceof ConflictError) continue;
        throw err;
      }
      if (opts.requeue ?? true) await this.enqueueTrial(t.params, { retry_of: t.number });
    }
    await this.refresh();
    return stale;
  }
}

function isDeadLocalWorker(w: unknown): boolean {
  const worker = w as { host?: string; pid?: number } | undefined;
  if (!worker || worker.host !== hostname() || typeof worker.pid !== 'number') return false;
  if (worker.pid === process.pid) return false;
  try {
    process.kill(worker.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
