/**
 * Replaying Optuna's journal: the operation codes and the rules of
 * optuna.storages._journal.storage.JournalStorageReplayResult. Every worker replays the same log, so
 * every worker reaches the same state: trial ids and numbers are the order of CREATE_TRIAL lines, a trial
 * is claimed by the first RUNNING line written for it, and updates to a finished trial are ignored.
 * An operation that breaks a rule raises only in the worker that wrote it (elsewhere it is skipped).
 */
import { ConflictError, NotFoundError } from '../../errors.js';
import { distributionFromJson, sameDistribution, toExternal, type Distribution } from '../distributions.js';
import { isFinished, StudyDirection, TrialState, type Direction, type FrozenTrial, type StudyRecord } from '../frozen-trial.js';

export const JournalOp = {
  CREATE_STUDY: 0,
  DELETE_STUDY: 1,
  SET_STUDY_USER_ATTR: 2,
  SET_STUDY_SYSTEM_ATTR: 3,
  CREATE_TRIAL: 4,
  SET_TRIAL_PARAM: 5,
  SET_TRIAL_STATE_VALUES: 6,
  SET_TRIAL_INTERMEDIATE_VALUE: 7,
  SET_TRIAL_USER_ATTR: 8,
  SET_TRIAL_SYSTEM_ATTR: 9,
} as const;

type Op = Record<string, unknown>;

export class JournalReplay {
  readonly studies = new Map<number, StudyRecord>();
  readonly trials: FrozenTrial[] = [];
  readonly #trialStudy: number[] = [];
  #nextStudyId = 0;
  /** The last trial this worker created, and the trial it owns (claimed RUNNING). */
  lastCreatedTrialId = -1;
  ownedTrialId: number | undefined;

  constructor(readonly workerId: string) {}

  apply(ops: readonly Op[]): void {
    for (const op of ops) this.#applyOne(op);
  }

  studyByName(name: string): StudyRecord | undefined {
    for (const s of this.studies.values()) if (s.studyName === name) return s;
    return undefined;
  }

  #mine(op: Op): boolean {
    return op.worker_id === this.workerId;
  }

  #applyOne(op: Op): void {
    switch (op.op_code) {
      case JournalOp.CREATE_STUDY:
        return this.#createStudy(op);
      case JournalOp.DELETE_STUDY:
        if (this.#studyExists(op.study_id as number, op)) this.studies.delete(op.study_id as number);
        return;
      case JournalOp.SET_STUDY_USER_ATTR:
      case JournalOp.SET_STUDY_SYSTEM_ATTR: {
        const id = op.study_id as number;
        if (!this.#studyExists(id, op)) return;
        const s = this.studies.get(id)!;
        if (op.op_code === JournalOp.SET_STUDY_USER_ATTR) Object.assign(s.userAttrs, op.user_attr);
        else Object.assign(s.systemAttrs, op.system_attr);
        return;
      }
      case JournalOp.CREATE_TRIAL:
        return this.#createTrial(op);
      case JournalOp.SET_TRIAL_PARAM:
        return this.#setParam(op);
      case JournalOp.SET_TRIAL_STATE_VALUES:
        return this.#setState(op);
      case JournalOp.SET_TRIAL_INTERMEDIATE_VALUE: {
        const t = this.#updatable(op);
        if (t) t.intermediateValues.set(Number(op.step), op.intermediate_value as number);
        return;
      }
      case JournalOp.SET_TRIAL_USER_ATTR: {
        const t = this.#updatable(op);
        if (t) Object.assign(t.userAttrs, op.user_attr);
        return;
      }
      case JournalOp.SET_TRIAL_SYSTEM_ATTR: {
        const t = this.#updatable(op);
        if (t) Object.assign(t.systemAttrs, op.system_attr);
        return;
      }
      default:
        // Operations of a newer Optuna are skipped rather than failing the whole study.
        return;
    }
  }

  #createStudy(op: Op): void {
    const name = op.study_name as string;
    if (this.studyByName(name)) {
      if (this.#mine(op)) throw new ConflictError(`a study named '${name}' already exists: pass loadIfExists to reuse it`, 'studyName');
      return;
    }
    const id = this.#nextStudyId++;
    const directions = (op.directions as number[]).map((d): Direction => (d === StudyDirection.MAXIMIZE ? 'maximize' : 'minimize'));
    this.studies.set(id, { studyId: id, studyName: name, directions, userAttrs: {}, systemAttrs: {}, trialIds: [] });
  }

  #studyExists(id: number, op: Op): boolean {
    if (this.studies.has(id)) return true;
    if (this.#mine(op)) throw new NotFoundError(`study ${id} does not exist`, 'studyId');
    return false;
  }

  #createTrial(op: Op): void {
    const studyId = op.study_id as number;
    if (!this.#studyExists(studyId, op)) return;
    const study = this.studies.get(studyId)!;
    const distributions: Record<string, Distribution> = {};
    for (const [k, v] of Object.entries((op.distributions as Record<string, string>) ?? {})) distributions[k] = distributionFromJson(v);
    const internalParams: Record<string, number> = { ...((op.params as Record<string, number>) ?? {}) };
    const params = Object.fromEntries(Object.entries(internalParams).map(([k, v]) => [k, toExternal(distributions[k]!, v)]));
    const values = op.values as number[] | null | undefined;
    const trialId = this.trials.length;
    const trial: FrozenTrial = {
      trialId,
      number: study.trialIds.length,
      state: (op.state as TrialState | undefined) ?? TrialState.RUNNING,
      value: values?.[0] ?? (op.value as number | null | undefined) ?? null,
      params,
      distributions,
      internalParams,
      intermediateValues: new Map(Object.entries((op.intermediate_values as Record<string, number>) ?? {}).map(([k, v]) => [Number(k), v])),
      userAttrs: { ...((op.user_attrs as Record<string, unknown>) ?? {}) },
      systemAttrs: { ...((op.system_attrs as Record<string, unknown>) ?? {}) },
      datetimeStart: (op.datetime_start as string | null) ?? null,
      datetimeComplete: (op.datetime_complete as string | undefined) ?? null,
    };
    this.trials.push(trial);
    this.#trialStudy.push(studyId);
    study.trialIds.push(trialId);
    if (this.#mine(op)) {
      this.lastCreatedTrialId = trialId;
      if (trial.state === TrialState.RUNNING) this.ownedTrialId = trialId;
    }
  }

  #updatable(op: Op): FrozenTrial | undefined {
    const id = op.trial_id as number;
    const t = this.trials[id];
    if (!t) {
      if (this.#mine(op)) throw new NotFoundError(`trial ${id} does not exist`, 'trialId');
      return undefined;
    }
    if (isFinished(t.state)) {
      if (this.#mine(op)) throw new ConflictError(`trial #${t.number} has already finished and cannot be updated`, 'trialId');
      return undefined;
    }
    return t;
  }

  #setParam(op: Op): void {
    const t = this.#updatable(op);
    if (!t) return;
    const name = op.param_name as string;
    const dist = distributionFromJson(op.distribution as string);
    for (const id of this.studies.get(this.#trialStudy[t.trialId]!)!.trialIds) {
      const prev = this.trials[id]!.distributions[name];
      if (!prev) continue;
      if (prev.kind !== dist.kind || (prev.kind === 'categorical' && !sameDistribution(prev, dist))) {
        if (this.#mine(op)) throw new ConflictError(`parameter '${name}': its distribution differs from earlier trials'`, name);
        return;
      }
      break;
    }
    const internal = op.param_value_internal as number;
    t.internalParams[name] = internal;
    t.distributions[name] = dist;
    t.params[name] = toExternal(dist, internal);
  }

  #setState(op: Op): void {
    const t = this.#updatable(op);
    if (!t) return;
    const state = op.state as TrialState;
    if (state === TrialState.RUNNING && t.state === TrialState.RUNNING) return;
    if (state === TrialState.RUNNING) {
      t.datetimeStart = op.datetime_start as string;
      if (this.#mine(op)) this.ownedTrialId = t.trialId;
    }
    if (isFinished(state)) t.datetimeComplete = (op.datetime_complete as string | undefined) ?? null;
    t.state = state;
    const values = op.values as number[] | null | undefined;
    if (values) t.value = values[0] ?? null;
  }
}
