/**
 * StudyStorage in PostgreSQL, for studies shared by workers on many machines (`--storage postgresql://…`).
 *
 * - Trial numbers: a new trial is numbered inside a transaction that holds its study's row lock
 *   (SELECT … FOR UPDATE), so concurrent workers never take the same number (UNIQUE (study_id, number)
 *   guards it too).
 * - Queued (WAITING) trials are claimed with SELECT … FOR UPDATE SKIP LOCKED: each goes to one worker.
 * - Every write to a trial is one UPDATE guarded by its state, so nothing updates a finished trial.
 * - Heartbeats: a running trial's worker stamps it every few seconds; a RUNNING trial whose stamp is older
 *   than `heartbeatGrace` belongs to a dead worker, and the next worker to start a trial fails and
 *   re-queues it.
 *
 * The tables (tft_studies, tft_trials) are created when missing. Parameters are stored as their internal
 * floats with Optuna's distribution JSON, as in the journal.
 */
import { hostname } from 'node:os';

import pg from 'pg';

import { ConflictError, InvalidArgumentError, IoError, NotFoundError } from '../../errors.js';
import { distributionFromJson, distributionToJson, toExternal, type Distribution } from '../distributions.js';
import { TrialState, type Direction, type FrozenTrial, type StudyRecord } from '../frozen-trial.js';
import type { NewTrial, StudyStorage } from './storage.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tft_studies (
  study_id SERIAL PRIMARY KEY,
  study_name TEXT NOT NULL UNIQUE,
  directions JSONB NOT NULL,
  user_attrs JSONB NOT NULL DEFAULT '{}',
  system_attrs JSONB NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS tft_trials (
  trial_id SERIAL PRIMARY KEY,
  study_id INTEGER NOT NULL REFERENCES tft_studies(study_id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  state SMALLINT NOT NULL,
  value DOUBLE PRECISION,
  params JSONB NOT NULL DEFAULT '{}',
  distributions JSONB NOT NULL DEFAULT '{}',
  intermediate JSONB NOT NULL DEFAULT '{}',
  user_attrs JSONB NOT NULL DEFAULT '{}',
  system_attrs JSONB NOT NULL DEFAULT '{}',
  datetime_start TIMESTAMPTZ,
  datetime_complete TIMESTAMPTZ,
  heartbeat TIMESTAMPTZ,
  worker TEXT,
  UNIQUE (study_id, number)
);
CREATE INDEX IF NOT EXISTS tft_trials_study_state ON tft_trials (study_id, state);
`;

/** JSON has no NaN or infinities; intermediate values may be either, so they travel as strings. */
const encodeNumber = (v: number): number | string => (Number.isFinite(v) ? v : String(v));
const decodeNumber = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));

interface TrialRow {
  trial_id: number;
  study_id: number;
  number: number;
  state: number;
  value: number | null;
  params: Record<string, number>;
  distributions: Record<string, string>;
  intermediate: Record<string, number | string>;
  user_attrs: Record<string, unknown>;
  system_attrs: Record<string, unknown>;
  datetime_start: Date | null;
  datetime_complete: Date | null;
}

function toFrozen(r: TrialRow): FrozenTrial {
  const distributions: Record<string, Distribution> = {};
  for (const [k, v] of Object.entries(r.distributions)) distributions[k] = distributionFromJson(v);
  return {
    trialId: r.trial_id,
    number: r.number,
    state: r.state as TrialState,
    value: r.value,
    params: Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, toExternal(distributions[k]!, v)])),
    distributions,
    internalParams: { ...r.params },
    intermediateValues: new Map(
      Object.entries(r.intermediate)
        .map(([k, v]) => [Number(k), decodeNumber(v)] as [number, number])
        .sort((a, b) => a[0] - b[0]),
    ),
    userAttrs: r.user_attrs,
    systemAttrs: r.system_attrs,
    datetimeStart: r.datetime_start?.toISOString() ?? null,
    datetimeComplete: r.datetime_complete?.toISOString() ?? null,
  };
}

const UNFINISHED = `state IN (${TrialState.RUNNING}, ${TrialState.WAITING})`;

export interface PostgresStorageOptions {
  /** A RUNNING trial whose heartbeat is older than this (seconds) belongs to a dead worker (default 120). */
  heartbeatGrace?: number;
}

export class PostgresStorage implements StudyStorage {
  readonly #pool: pg.Pool;
  readonly #url: string;
  readonly #worker = `${hostname()}:${process.pid}:${crypto.randomUUID()}`;
  readonly heartbeatGraceSeconds: number;
  #ready: Promise<void> | undefined;

  constructor(url: string, opts: PostgresStorageOptions = {}) {
    this.#url = url;
    this.#pool = new pg.Pool({ connectionString: url, max: 2 });
    // An idle client that loses its server must not crash the process: the next query reports it.
    this.#pool.on('error', () => {});
    this.heartbeatGraceSeconds = opts.heartbeatGrace ?? 120;
    if (!(this.heartbeatGraceSeconds > 0)) throw new InvalidArgumentError('heartbeatGrace: must be > 0 seconds', 'heartbeatGrace');
  }

  get description(): string {
    return this.#url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], client?: pg.PoolClient): Promise<pg.QueryResult<R>> {
    await (this.#ready ??= this.#init());
    try {
      return await (client ?? this.#pool).query<R>(sql, params);
    } catch (err) {
      throw wrap(err, this.description);
    }
  }

  async #init(): Promise<void> {
    try {
      const c = await this.#pool.connect();
      try {
        // Workers starting together would race on CREATE TABLE IF NOT EXISTS: serialise them.
        await c.query('SELECT pg_advisory_lock(727274)');
        await c.query(SCHEMA);
        await c.query('SELECT pg_advisory_unlock(727274)');
      } finally {
        c.release();
      }
    } catch (err) {
      this.#ready = undefined;
      throw wrap(err, this.description);
    }
  }

  async #transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    await (this.#ready ??= this.#init());
    const c = await this.#pool.connect().catch((err: unknown) => Promise.reject(wrap(err, this.description)));
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw wrap(err, this.description);
    } finally {
      c.release();
    }
  }

  async #studyRecord(row: {
    study_id: number;
    study_name: string;
    directions: number[];
    user_attrs: object;
    system_attrs: object;
  }): Promise<StudyRecord> {
    const ids = await this.#query<{ trial_id: number }>('SELECT trial_id FROM tft_trials WHERE study_id = $1 ORDER BY number', [
      row.study_id,
    ]);
    return {
      studyId: row.study_id,
      studyName: row.study_name,
      directions: row.directions.map((d): Direction => (d === 2 ? 'maximize' : 'minimize')),
      userAttrs: row.user_attrs as Record<string, unknown>,
      systemAttrs: row.system_attrs as Record<string, unknown>,
      trialIds: ids.rows.map((r) => r.trial_id),
    };
  }

  async createStudy(name: string, directions: Direction[]): Promise<StudyRecord> {
    const codes = directions.map((d) => (d === 'maximize' ? 2 : 1));
    const r = await this.#query<{ study_id: number }>(
      'INSERT INTO tft_studies (study_name, directions) VALUES ($1, $2::jsonb) ON CONFLICT (study_name) DO NOTHING RETURNING study_id',
      [name, JSON.stringify(codes)],
    );
    if (r.rowCount === 0) throw new ConflictError(`a study named '${name}' already exists: pass loadIfExists to reuse it`, 'studyName');
    return (await this.findStudy(name))!;
  }

  async findStudy(name: string): Promise<StudyRecord | undefined> {
    const r = await this.#query<{ study_id: number; study_name: string; directions: number[]; user_attrs: object; system_attrs: object }>(
      'SELECT * FROM tft_studies WHERE study_name = $1',
      [name],
    );
    return r.rows[0] ? this.#studyRecord(r.rows[0]) : undefined;
  }

  async listStudies(): Promise<StudyRecord[]> {
    const r = await this.#query<{ study_id: number; study_name: string; directions: number[]; user_attrs: object; system_attrs: object }>(
      'SELECT * FROM tft_studies ORDER BY study_id',
    );
    return Promise.all(r.rows.map((row) => this.#studyRecord(row)));
  }

  async setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    await this.#query('UPDATE tft_studies SET user_attrs = user_attrs || $2::jsonb WHERE study_id = $1', [
      studyId,
      JSON.stringify({ [key]: value }),
    ]);
  }
  async setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    await this.#query('UPDATE tft_studies SET system_attrs = system_attrs || $2::jsonb WHERE study_id = $1', [
      studyId,
      JSON.stringify({ [key]: value }),
    ]);
  }

  async createTrial(studyId: number, init: NewTrial = {}): Promise<FrozenTrial> {
    return (await this.createTrialBelow(studyId, Infinity, init))!;
  }

  async createTrialBelow(studyId: number, maxLive: number, init: NewTrial = {}): Promise<FrozenTrial | undefined> {
    const state = init.state ?? TrialState.RUNNING;
    const running = state === TrialState.RUNNING;
    const row = await this.#transaction(async (c) => {
      // The study row's lock serialises every creation in the study, so the count below cannot go stale.
      const study = await c.query('SELECT study_id FROM tft_studies WHERE study_id = $1 FOR UPDATE', [studyId]);
      if (study.rowCount === 0) throw new NotFoundError(`study ${studyId} does not exist`, 'studyId');
      if (maxLive !== Infinity) {
        const live = await c.query<{ n: string }>(
          `SELECT count(*) AS n FROM tft_trials WHERE study_id = $1 AND state <> ${TrialState.FAIL}`,
          [studyId],
        );
        if (Number(live.rows[0]!.n) >= maxLive) return undefined;
      }
      const r = await c.query<TrialRow>(
        `INSERT INTO tft_trials (study_id, number, state, value, params, distributions, intermediate, user_attrs, system_attrs,
                                 datetime_start, datetime_complete, heartbeat, worker)
         SELECT $1::integer, COALESCE(MAX(number) + 1, 0), $2::smallint, $3::double precision, $4::jsonb, $5::jsonb, $6::jsonb,
                $7::jsonb, $8::jsonb,
                CASE WHEN $2::smallint = ${TrialState.WAITING} THEN NULL ELSE now() END,
                CASE WHEN $2::smallint IN (${TrialState.COMPLETE}, ${TrialState.PRUNED}, ${TrialState.FAIL}) THEN now() END,
                CASE WHEN $9::boolean THEN now() END, CASE WHEN $9::boolean THEN $10::text END
         FROM tft_trials WHERE study_id = $1::integer RETURNING *`,
        [
          studyId,
          state,
          init.value ?? null,
          JSON.stringify(init.params ?? {}),
          JSON.stringify(Object.fromEntries(Object.entries(init.distributions ?? {}).map(([k, d]) => [k, distributionToJson(d)]))),
          JSON.stringify(Object.fromEntries([...(init.intermediateValues ?? [])].map(([k, v]) => [k, encodeNumber(v)]))),
          JSON.stringify(init.userAttrs ?? {}),
          JSON.stringify(init.systemAttrs ?? {}),
          running,
          this.#worker,
        ],
      );
      return r.rows[0]!;
    });
    return row ? toFrozen(row) : undefined;
  }

  async claimWaitingTrial(studyId: number): Promise<FrozenTrial | undefined> {
    const r = await this.#query<TrialRow>(
      `UPDATE tft_trials SET state = ${TrialState.RUNNING}, datetime_start = now(), heartbeat = now(), worker = $2
       WHERE trial_id = (SELECT trial_id FROM tft_trials WHERE study_id = $1 AND state = ${TrialState.WAITING}
                         ORDER BY number FOR UPDATE SKIP LOCKED LIMIT 1)
       RETURNING *`,
      [studyId, this.#worker],
    );
    return r.rows[0] ? toFrozen(r.rows[0]) : undefined;
  }

  async #updateUnfinished(trialId: number, set: string, params: unknown[]): Promise<void> {
    const r = await this.#query(`UPDATE tft_trials SET ${set} WHERE trial_id = $1 AND ${UNFINISHED}`, [trialId, ...params]);
    if (r.rowCount === 0) await this.#explainMissedUpdate(trialId);
  }

  async #explainMissedUpdate(trialId: number): Promise<never> {
    const t = await this.#query<{ number: number }>('SELECT number FROM tft_trials WHERE trial_id = $1', [trialId]);
    if (!t.rows[0]) throw new NotFoundError(`trial ${trialId} does not exist`, 'trialId');
    throw new ConflictError(`trial #${t.rows[0].number} has already finished and cannot be updated`, 'trialId');
  }

  setTrialParam(trialId: number, name: string, internal: number, distribution: Distribution): Promise<void> {
    return this.#updateUnfinished(trialId, 'params = params || $2::jsonb, distributions = distributions || $3::jsonb', [
      JSON.stringify({ [name]: internal }),
      JSON.stringify({ [name]: distributionToJson(distribution) }),
    ]);
  }

  setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void> {
    return this.#updateUnfinished(trialId, 'intermediate = intermediate || $2::jsonb, heartbeat = now()', [
      JSON.stringify({ [step]: encodeNumber(value) }),
    ]);
  }

  setTrialState(trialId: number, state: TrialState, value?: number | null): Promise<void> {
    const finished = state === TrialState.COMPLETE || state === TrialState.PRUNED || state === TrialState.FAIL;
    return this.#updateUnfinished(
      trialId,
      `state = $2::smallint, value = COALESCE($3::double precision, value)${finished ? ', datetime_complete = now()' : ''}${state === TrialState.RUNNING ? ', datetime_start = now(), heartbeat = now()' : ''}`,
      [state, value ?? null],
    );
  }

  setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
    return this.#updateUnfinished(trialId, 'user_attrs = user_attrs || $2::jsonb', [JSON.stringify({ [key]: value })]);
  }
  setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void> {
    return this.#updateUnfinished(trialId, 'system_attrs = system_attrs || $2::jsonb', [JSON.stringify({ [key]: value })]);
  }

  async heartbeat(trialId: number): Promise<void> {
    await this.#query(`UPDATE tft_trials SET heartbeat = now() WHERE trial_id = $1 AND state = ${TrialState.RUNNING}`, [trialId]);
  }

  /** RUNNING trials whose worker stopped stamping them more than heartbeatGrace seconds ago. */
  async staleRunningTrials(studyId: number): Promise<FrozenTrial[]> {
    const r = await this.#query<TrialRow>(
      `SELECT * FROM tft_trials WHERE study_id = $1 AND state = ${TrialState.RUNNING}
       AND (heartbeat IS NULL OR heartbeat < now() - make_interval(secs => $2::double precision)) ORDER BY number`,
      [studyId, this.heartbeatGraceSeconds],
    );
    return r.rows.map(toFrozen);
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    const r = await this.#query<TrialRow>('SELECT * FROM tft_trials WHERE trial_id = $1', [trialId]);
    if (!r.rows[0]) throw new NotFoundError(`trial ${trialId} does not exist`, 'trialId');
    return toFrozen(r.rows[0]);
  }

  async getTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    const r = states
      ? await this.#query<TrialRow>('SELECT * FROM tft_trials WHERE study_id = $1 AND state = ANY($2::smallint[]) ORDER BY number', [
          studyId,
          states,
        ])
      : await this.#query<TrialRow>('SELECT * FROM tft_trials WHERE study_id = $1 ORDER BY number', [studyId]);
    return r.rows.map(toFrozen);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

function wrap(err: unknown, where: string): Error {
  if (err instanceof ConflictError || err instanceof NotFoundError || err instanceof IoError || err instanceof InvalidArgumentError)
    return err;
  const e = err as { code?: string; message?: string };
  return new IoError(`PostgreSQL ${where}: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}`, 'storage');
}
