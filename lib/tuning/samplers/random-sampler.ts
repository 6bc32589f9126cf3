/**
 * Uniform random search (Optuna's RandomSampler): uniform in each parameter's transformed space — log
 * space for log distributions, [low − step/2, high + step/2] rounded onto the grid for stepped and integer
 * ones, an equally likely index for categoricals. Seeded: the same seed draws the same values.
 */
import type { Distribution } from '../distributions.js';
import { Xoshiro128 } from '../../random/prng.js';
import { uniform53 } from './parzen-estimator.js';
import type { Sampler } from './sampler.js';

export class RandomSampler implements Sampler {
  readonly #rng: Xoshiro128;

  constructor(opts: { seed?: number } = {}) {
    this.#rng = new Xoshiro128(opts.seed ?? Math.floor(Math.random() * 2 ** 31));
  }

  inferRelativeSearchSpace(): Record<string, Distribution> {
    return {};
  }
  sampleRelative(): Record<string, number> {
    return {};
  }
  sampleIndependent(_study: unknown, _trial: unknown, _name: string, d: Distribution): number {
    return sampleUniform(d, this.#rng);
  }
}

export function sampleUniform(d: Distribution, rng: Xoshiro128): number {
  const u = uniform53(rng);
  if (d.kind === 'categorical') return Math.min(d.choices.length - 1, Math.floor(u * d.choices.length));
  if (d.kind === 'float') {
    if (d.log) return Math.min(d.high, Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low))));
    if (d.step === null) return d.low + u * (d.high - d.low);
    const v = d.low - d.step / 2 + u * (d.high - d.low + d.step);
    return Math.min(d.high, Math.max(d.low, Math.round((v - d.low) / d.step) * d.step + d.low));
  }
  if (d.log) {
    const v = Math.exp(Math.log(d.low - 0.5) + u * (Math.log(d.high + 0.5) - Math.log(d.low - 0.5)));
    return Math.min(d.high, Math.max(d.low, Math.round(v)));
  }
  const v = d.low - d.step / 2 + u * (d.high - d.low + d.step);
  return Math.min(d.high, Math.max(d.low, Math.round((v - d.low) / d.step) * d.step + d.low));
}
