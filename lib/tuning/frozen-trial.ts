/**
 * A trial as the study records it, with Optuna's state and direction codes (the journal stores the
 * numbers, so they must match Optuna's enums exactly).
 */
import type { Distribution, ParamValue } from './distributions.js';

export const TrialState = { RUNNING: 0, COMPLETE: 1, PRUNED: 2, FAIL: 3, WAITING: 4 } as const;
export type TrialState = (typeof TrialState)[keyof typeof TrialState];
export type TrialStateName = 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL' | 'WAITING';

export const StudyDirection = { NOT_SET: 0, MINIMIZE: 1, MAXIMIZE: 2 } as const;
export type Direction = 'minimize' | 'maximize';

export function stateName(s: TrialState): TrialStateName {
  return (Object.keys(TrialState) as TrialStateName[]).find((k) => TrialState[k] === s)!;
}

export function isFinished(s: TrialState): boolean {
  return s === TrialState.COMPLETE || s === TrialState.PRUNED || s === TrialState.FAIL;
}

export interface FrozenTrial {
  /** Position among all trials of the storage (Optuna's trial_id). */
  trialId: number;
  /** Position among the trials of its study, from 0. */
  number: number;
  state: TrialState;
  /** The objective's value (single-objective studies). */
  value: number | null;
  /** External values, as the objective saw them. */
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  /** Internal (float) values, as samplers read them. */
  internalParams: Record<string, number>;
  intermediateValues: Map<number, number>;
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
  datetimeStart: string | null;
  datetimeComplete: string | null;
}

export interface StudyRecord {
  studyId: number;
  studyName: string;
  directions: Direction[];
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
  trialIds: number[];
}

/** Optuna writes naive local timestamps with microseconds (datetime.now().isoformat(timespec="microseconds")). */
export function nowIso(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}
