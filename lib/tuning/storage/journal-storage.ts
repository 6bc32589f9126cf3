/**
 * StudyStorage over an Optuna journal. Each write appends one operation and replays everything appended
 * since the last sync, so concurrent workers (processes sharing the file through its lock, or Optuna
 * itself) see each other's trials; trial numbers come from the order of the log, so none is issued twice.
 */
import { randomUUID } from 'node:crypto';

import { NotFoundError } from '../../errors.js';
import { distributionToJson, type Distribution } from '../distributions.js';
import { nowIso, StudyDirection, TrialState, type Direction, type FrozenTrial, type StudyRecord } from '../frozen-trial.js';
import { JournalFile, MemoryJournal, type JournalBackend } from './journal-file.js';
import { JournalOp, JournalReplay } from './journal-replay.js';
import type { NewTrial, StudyStorage } from './storage.js';

export class JournalStorage implements StudyStorage {
  readonly #backend: JournalBackend;
  readonly #replay: JournalReplay;

  constructor(backend: JournalBackend) {
    this.#backend = backend;
    this.#replay = new JournalReplay(`${randomUUID()}-${process.pid}`);
    this.#sync();
  }

  static file(path: string): JournalStorage {
    return new JournalStorage(new JournalFile(path));
  }
  static memory(): JournalStorage {
    return new JournalStorage(new MemoryJournal());
  }

  get description(): string {
    return this.#backend.description;
  }
  get workerId(): string {
    return this.#replay.workerId;
  }

  #sync(): void {
    this.#replay.apply(this.#backend.readNew());
  }

  async #write(opCode: number, fields: Record<string, unknown>): Promise<void> {
    await this.#writeIf(opCode, fields);
  }

  /** Writes the op unless `guard`, checked under the writers' lock over the whole journal, says no. */
  async #writeIf(opCode: number, fields: Record<string, unknown>, guard?: () => boolean): Promise<boolean> {
    const written = await this.#backend.append(
      [{ op_code: opCode, worker_id: this.#replay.workerId, ...fields }],
      guard &&
        (() => {
          this.#sync();
          return guard();
        }),
    );
    this.#sync();
    return written;
  }

  async createStudy(name: string, directions: Direction[]): Promise<StudyRecord> {
    const codes = directions.map((d) => (d === 'maximize' ? StudyDirection.MAXIMIZE : StudyDirection.MINIMIZE));
    await this.#write(JournalOp.CREATE_STUDY, { study_name: name, directions: codes });
    return this.#replay.studyByName(name)!;
  }

  findStudy(name: string): Promise<StudyRecord | undefined> {
    this.#sync();
    return Promise.resolve(this.#replay.studyByName(name));
  }

  listStudies(): Promise<StudyRecord[]> {
    this.#sync();
    return Promise.resolve([...this.#replay.studies.values()]);
  }

  setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    return this.#write(JournalOp.SET_STUDY_USER_ATTR, { study_id: studyId, user_attr: { [key]: value } });
  }
  setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    return this.#write(JournalOp.SET_STUDY_SYSTEM_ATTR, { study_id: studyId, system_attr: { [key]: value } });
  }

  async createTrial(studyId: number, init: NewTrial = {}): Promise<FrozenTrial> {
    return (await this.createTrialBelow(studyId, Infinity, init))!;
  }

  async createTrialBelow(studyId: number, maxLive: number, init: NewTrial = {}): Promise<FrozenTrial | undefined> {
    const fields: Record<string, unknown> = { study_id: studyId, datetime_start: init.state === TrialState.WAITING ? null : nowIso() };
    if (init.state !== undefined || init.params || init.systemAttrs || init.userAttrs) {
      fields.state = init.state ?? TrialState.RUNNING;
      fields.value = init.value ?? null;
      fields.values = init.value === undefined || init.value === null ? null : [init.value];
      fields.distributions = Object.fromEntries(Object.entries(init.distributions ?? {}).map(([k, d]) => [k, distributionToJson(d)]));
      fields.params = init.params ?? {};
      fields.user_attrs = init.userAttrs ?? {};
      fields.system_attrs = init.systemAttrs ?? {};
      fields.intermediate_values = Object.fromEntries(init.intermediateValues ?? []);
    }
    const live = () =>
      (this.#replay.studies.get(studyId)?.trialIds ?? []).filter((id) => this.#replay.trials[id]!.state !== TrialState.FAIL).length;
    const written = await this.#writeIf(JournalOp.CREATE_TRIAL, fields, maxLive === Infinity ? undefined : () => live() < maxLive);
    return written ? this.#replay.trials[this.#replay.lastCreatedTrialId]! : undefined;
  }

  async claimWaitingTrial(studyId: number): Promise<FrozenTrial | undefined> {
    for (const t of await this.getTrials(studyId, [TrialState.WAITING])) {
      await this.#write(JournalOp.SET_TRIAL_STATE_VALUES, {
        trial_id: t.trialId,
        state: TrialState.RUNNING,
        values: null,
        datetime_start: nowIso(),
      });
      if (this.#replay.ownedTrialId === t.trialId) return this.#replay.trials[t.trialId];
    }
    return undefined;
  }

  setTrialParam(trialId: number, name: string, internal: number, distribution: Distribution): Promise<void> {
    return this.#write(JournalOp.SET_TRIAL_PARAM, {
      trial_id: trialId,
      param_name: name,
      param_value_internal: internal,
      distribution: distributionToJson(distribution),
    });
  }

  setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void> {
    return this.#write(JournalOp.SET_TRIAL_INTERMEDIATE_VALUE, { trial_id: trialId, step, intermediate_value: value });
  }

  setTrialState(trialId: number, state: TrialState, value?: number | null): Promise<void> {
    const fields: Record<string, unknown> = { trial_id: trialId, state, values: value === undefined || value === null ? null : [value] };
    if (state === TrialState.RUNNING) fields.datetime_start = nowIso();
    else if (state !== TrialState.WAITING) fields.datetime_complete = nowIso();
    return this.#write(JournalOp.SET_TRIAL_STATE_VALUES, fields);
  }

  setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
    return this.#write(JournalOp.SET_TRIAL_USER_ATTR, { trial_id: trialId, user_attr: { [key]: value } });
  }
  setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void> {
    return this.#write(JournalOp.SET_TRIAL_SYSTEM_ATTR, { trial_id: trialId, system_attr: { [key]: value } });
  }

  getTrial(trialId: number): Promise<FrozenTrial> {
    this.#sync();
    const t = this.#replay.trials[trialId];
    if (!t) return Promise.reject(new NotFoundError(`trial ${trialId} does not exist`, 'trialId'));
    return Promise.resolve(t);
  }

  getTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    this.#sync();
    const study = this.#replay.studies.get(studyId);
    if (!study) return Promise.reject(new NotFoundError(`study ${studyId} does not exist`, 'studyId'));
    const all = study.trialIds.map((id) => this.#replay.trials[id]!);
    return Promise.resolve(states ? all.filter((t) => states.includes(t.state)) : all);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
