/**
 * From a TuningConfig search space to a trial's TrainingConfig: each parameter is suggested from its
 * distribution and written at its path. A TFT needs nHeads to divide dHidden; rather than discard such
 * trials (a wasted trial teaches the sampler nothing), the head count is repaired to the largest divisor
 * of dHidden not above the one suggested, and the repair is recorded with the trial.
 */
import { InvalidArgumentError } from '../errors.js';
import { type TrainingConfig, withOverrides } from '../training/config.js';
import { categoricalDistribution, floatDistribution, intDistribution, type Distribution, type ParamValue } from './distributions.js';
import type { Trial } from './trial.js';
import type { SearchParam } from './tuning-config.js';

export function distributionOf(name: string, p: SearchParam): Distribution {
  if ('choices' in p) return categoricalDistribution(name, p.choices);
  if (p.type === 'int') return intDistribution(name, p.low, p.high, { log: p.log, step: p.step ?? 1 });
  return floatDistribution(name, p.low, p.high, { log: p.log, step: p.step ?? null });
}

export function suggestParams(trial: Trial, space: Record<string, SearchParam>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [name, p] of Object.entries(space)) {
    const d = distributionOf(name, p);
    out[name] =
      d.kind === 'categorical'
        ? trial.suggestCategorical(name, d.choices)
        : d.kind === 'int'
          ? trial.suggestInt(name, d.low, d.high, { log: d.log, step: d.step })
          : trial.suggestFloat(name, d.low, d.high, { log: d.log, step: d.step });
  }
  return out;
}

export interface AppliedParams {
  config: TrainingConfig;
  /** Fields whose suggested value was repaired, with the value used (e.g. { 'model.nHeads': 4 }). */
  repaired: Record<string, number>;
}

export function applyParams(base: TrainingConfig, space: Record<string, SearchParam>, params: Record<string, ParamValue>): AppliedParams {
  const overrides: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    const p = space[name];
    if (!p) throw new InvalidArgumentError(`parameter '${name}' is not in the search space`, name);
    setPath(overrides, p.path, value);
  }
  const repaired: Record<string, number> = {};
  const model = (overrides.model ?? {}) as Record<string, unknown>;
  const dHidden = (model.dHidden as number | undefined) ?? base.model.dHidden;
  const nHeads = (model.nHeads as number | undefined) ?? base.model.nHeads;
  if (dHidden % nHeads !== 0) {
    let h = nHeads;
    while (dHidden % h !== 0) h--;
    model.nHeads = h;
    overrides.model = model;
    repaired['model.nHeads'] = h;
  }
  return { config: withOverrides(base, overrides), repaired };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
    throw new InvalidArgumentError(`search space path '${path}' is not a config field`, path);
  }
  let node = target;
  for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}
