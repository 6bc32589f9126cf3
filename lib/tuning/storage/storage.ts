/**
 * What a study needs of its storage. Two implementations: the journal (a file in Optuna's JournalStorage
 * format, or memory) for one machine, and PostgreSQL for many. Every method is async and every write is
 * durable before it resolves.
 */
import type { Distribution } from '../distributions.js';
import type { Direction, FrozenTrial, StudyRecord, TrialState } from '../frozen-trial.js';

export interface NewTrial {
  state?: TrialState;
  params?: Record<string, number>;
  distributions?: Record<string, Distribution>;
  userAttrs?: Record<string, unknown>;
  systemAttrs?: Record<string, unknown>;
  value?: number | null;
  intermediateValues?: Map<number, number>;
}

export interface StudyStorage {
  readonly description: string;
  /** Creates the study; ConflictError when the name is taken. */
  createStudy(name: string, directions: Direction[]): Promise<StudyRecord>;
  findStudy(name: string): Promise<StudyRecord | undefined>;
  listStudies(): Promise<StudyRecord[]>;
  setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void>;
  setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void>;
  /** A new trial (RUNNING unless told otherwise), numbered after every trial of the study. */
  createTrial(studyId: number, init?: NewTrial): Promise<FrozenTrial>;
  /**
   * createTrial, unless the study already has `maxLive` trials that did not fail — checked atomically with
   * the creation, so workers sharing a trial budget never overshoot it. Undefined when it was full.
   */
  createTrialBelow(studyId: number, maxLive: number, init?: NewTrial): Promise<FrozenTrial | undefined>;
  /** Claims the oldest WAITING trial for this worker (sets it RUNNING), or undefined when none is left. */
  claimWaitingTrial(studyId: number): Promise<FrozenTrial | undefined>;
  setTrialParam(trialId: number, name: string, internal: number, distribution: Distribution): Promise<void>;
  setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void>;
  /** Finishes (or fails) a trial; ConflictError when it had already finished. */
  setTrialState(trialId: number, state: TrialState, value?: number | null): Promise<void>;
  setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void>;
  setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void>;
  getTrial(trialId: number): Promise<FrozenTrial>;
  /** The study's trials in number order, optionally only those in `states`. */
  getTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]>;
  /** Marks this worker alive on its running trial (storages that reclaim dead workers' trials use it). */
  heartbeat?(trialId: number): Promise<void>;
  /** RUNNING trials whose worker stopped sending heartbeats (storages with heartbeats). */
  staleRunningTrials?(studyId: number): Promise<FrozenTrial[]>;
  /** Seconds a worker may go without a heartbeat before its trial is taken for dead. */
  readonly heartbeatGraceSeconds?: number;
  close(): Promise<void>;
}
