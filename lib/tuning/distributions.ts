/**
 * Parameter distributions in Optuna's shape: FloatDistribution (log, step), IntDistribution (log, step) and
 * CategoricalDistribution. Each maps between the external value a trial sees and the internal float the
 * sampler and the study journal hold (a categorical's internal value is its choice index), and serialises
 * to Optuna's own JSON (`{"name": "FloatDistribution", "attributes": {...}}`) so a journal written here is
 * read by optuna.load_study.
 */
import { InvalidArgumentError } from '../errors.js';

export type CategoricalChoice = string | number | boolean | null;

export interface FloatDistribution {
  kind: 'float';
  low: number;
  high: number;
  log: boolean;
  step: number | null;
}

export interface IntDistribution {
  kind: 'int';
  low: number;
  high: number;
  log: boolean;
  step: number;
}

export interface CategoricalDistribution {
  kind: 'categorical';
  choices: readonly CategoricalChoice[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;
export type ParamValue = number | CategoricalChoice;

const fail = (name: string, message: string) => new InvalidArgumentError(`${name}: ${message}`, name);

/** A float distribution; `high` is rounded down onto the step grid as Optuna does. */
export function floatDistribution(
  name: string,
  low: number,
  high: number,
  opts: { log?: boolean; step?: number | null } = {},
): FloatDistribution {
  const log = opts.log ?? false;
  const step = opts.step ?? null;
  if (!Number.isFinite(low) || !Number.isFinite(high) || low > high) throw fail(name, `needs finite low ≤ high, got [${low}, ${high}]`);
  if (log && step !== null) throw fail(name, 'log and step cannot be used together');
  if (log && low <= 0) throw fail(name, `a log distribution needs low > 0, got ${low}`);
  if (step !== null && !(step > 0)) throw fail(name, `step must be > 0, got ${step}`);
  const top = step === null ? high : low + Math.floor((high - low) / step + 1e-9) * step;
  return { kind: 'float', low, high: step === null ? high : Math.min(high, top), log, step };
}

export function intDistribution(name: string, low: number, high: number, opts: { log?: boolean; step?: number } = {}): IntDistribution {
  const log = opts.log ?? false;
  const step = opts.step ?? 1;
  if (!Number.isInteger(low) || !Number.isInteger(high) || low > high) throw fail(name, `needs integers low ≤ high, got [${low}, ${high}]`);
  if (!Number.isInteger(step) || step < 1) throw fail(name, `step must be a positive integer, got ${step}`);
  if (log && step !== 1) throw fail(name, 'log and step cannot be used together');
  if (log && low < 1) throw fail(name, `a log distribution needs low ≥ 1, got ${low}`);
  return { kind: 'int', low, high: low + Math.floor((high - low) / step) * step, log, step };
}

export function categoricalDistribution(name: string, choices: readonly CategoricalChoice[]): CategoricalDistribution {
  if (!Array.isArray(choices) || choices.length === 0) throw fail(name, 'needs at least one choice');
  for (const c of choices) {
    if (!(c === null || ['string', 'number', 'boolean'].includes(typeof c)))
      throw fail(name, `choices must be strings, numbers, booleans or null`);
  }
  return { kind: 'categorical', choices: [...choices] };
}

/** True when the distribution can only produce one value (Optuna leaves such parameters out of the joint search space). */
export function isSingle(d: Distribution): boolean {
  if (d.kind === 'categorical') return d.choices.length === 1;
  if (d.low === d.high) return true;
  return d.kind === 'float' && d.step !== null && d.high - d.low < d.step;
}

export function toInternal(d: Distribution, value: ParamValue): number {
  if (d.kind === 'categorical') {
    const i = d.choices.findIndex((c) => c === value);
    if (i < 0) throw new InvalidArgumentError(`${JSON.stringify(value)} is not one of the choices ${JSON.stringify(d.choices)}`);
    return i;
  }
  return value as number;
}

export function toExternal(d: Distribution, internal: number): ParamValue {
  if (d.kind === 'categorical') return d.choices[Math.round(internal)]!;
  if (d.kind === 'int') return Math.round(internal);
  return internal;
}

export function contains(d: Distribution, internal: number): boolean {
  if (!Number.isFinite(internal)) return false;
  if (d.kind === 'categorical') return Number.isInteger(internal) && internal >= 0 && internal < d.choices.length;
  if (internal < d.low || internal > d.high) return false;
  if (d.kind === 'int') return Number.isInteger(internal) && (internal - d.low) % d.step === 0;
  if (d.step === null) return true;
  const k = (internal - d.low) / d.step;
  return Math.abs(k - Math.round(k)) < 1e-8;
}

/** Same kind and same bounds, step, log flag or choices (what Optuna requires of a parameter across trials). */
export function sameDistribution(a: Distribution, b: Distribution): boolean {
  if (a === b) return true;
  if (a.kind === 'categorical' || b.kind === 'categorical') {
    if (a.kind !== 'categorical' || b.kind !== 'categorical') return false;
    return a.choices.length === b.choices.length && a.choices.every((c, i) => c === b.choices[i]);
  }
  return a.kind === b.kind && a.low === b.low && a.high === b.high && a.log === b.log && a.step === b.step;
}

/** Optuna's JSON form (optuna.distributions.distribution_to_json). */
export function distributionToJson(d: Distribution): string {
  if (d.kind === 'categorical') return JSON.stringify({ name: 'CategoricalDistribution', attributes: { choices: d.choices } });
  const name = d.kind === 'float' ? 'FloatDistribution' : 'IntDistribution';
  return JSON.stringify({ name, attributes: { step: d.step, low: d.low, high: d.high, log: d.log } });
}

/** Parses Optuna's JSON form, including the pre-3.0 names Optuna still reads (UniformDistribution and the like). */
export function distributionFromJson(json: string): Distribution {
  const { name, attributes: a } = JSON.parse(json) as { name: string; attributes: Record<string, unknown> };
  const num = (k: string) => Number(a[k]);
  switch (name) {
    case 'FloatDistribution':
      return {
        kind: 'float',
        low: num('low'),
        high: num('high'),
        log: Boolean(a.log),
        step: a.step === null || a.step === undefined ? null : num('step'),
      };
    case 'IntDistribution':
      return { kind: 'int', low: num('low'), high: num('high'), log: Boolean(a.log), step: a.step === undefined ? 1 : num('step') };
    case 'CategoricalDistribution':
      return { kind: 'categorical', choices: a.choices as CategoricalChoice[] };
    case 'UniformDistribution':
      return { kind: 'float', low: num('low'), high: num('high'), log: false, step: null };
    case 'LogUniformDistribution':
      return { kind: 'float', low: num('low'), high: num('high'), log: true, step: null };
    case 'DiscreteUniformDistribution':
      return { kind: 'float', low: num('low'), high: num('high'), log: false, step: num('q') };
    case 'IntUniformDistribution':
      return { kind: 'int', low: num('low'), high: num('high'), log: false, step: a.step === undefined ? 1 : num('step') };
    case 'IntLogUniformDistribution':
      return { kind: 'int', low: num('low'), high: num('high'), log: true, step: 1 };
    default:
      throw new InvalidArgumentError(`unknown distribution ${name}`, 'distribution');
  }
}
