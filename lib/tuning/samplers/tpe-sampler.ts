/**
 * Tree-structured Parzen Estimator, as Optuna defines it (optuna/samplers/_tpe/sampler.py, single
 * objective):
 *
 * 1. Observations: every COMPLETE trial scored (−∞, sign·value); every PRUNED one (−step, sign·its last
 *    intermediate value), or (1, 0) without one; with the constant liar every RUNNING one (+∞, +∞), so
 *    workers running in parallel steer away from each other's pending points. sign = −1 when maximising.
 * 2. Below n_startup_trials finished trials: random search.
 * 3. Otherwise the γ(n) = min(⌈0.1 n⌉, 25) best scores (lexicographic, stable) form l(x), the rest g(x);
 *    each a Parzen estimator over the trials' values in trial order, weighted by the default ramp.
 * 4. n_ei_candidates draws from l(x); the one with the largest log l(x) − log g(x) is suggested.
 *
 * Multivariate (the default here): at a trial's start, the joint space is the parameters every finished
 * (complete or pruned) trial has with the same distribution, sampled together with one joint bandwidth;
 * parameters outside it are sampled one by one. Seeded: same seed and same history, same suggestions.
 */
import { isSingle, sameDistribution, type Distribution } from '../distributions.js';
import { TrialState, type FrozenTrial } from '../frozen-trial.js';
import { Xoshiro128 } from '../../random/prng.js';
import { defaultWeights, ParzenEstimator, type ParzenParameters } from './parzen-estimator.js';
import { sampleUniform } from './random-sampler.js';
import type { Sampler, StudyView } from './sampler.js';

export interface TPESamplerOptions {
  considerPrior?: boolean;
  priorWeight?: number;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
  nStartupTrials?: number;
  nEiCandidates?: number;
  gamma?: (n: number) => number;
  weights?: (n: number) => number[];
  seed?: number;
  multivariate?: boolean;
  constantLiar?: boolean;
  /** Continuous kernels' density with its −log σ (later Optuna) instead of Optuna 3.1's form; default false. */
  scaledKernelDensity?: boolean;
}

export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

type Score = [number, number];

export class TPESampler implements Sampler {
  readonly #p: ParzenParameters;
  readonly #nStartup: number;
  readonly #nEi: number;
  readonly #gamma: (n: number) => number;
  readonly #constantLiar: boolean;
  readonly #rng: Xoshiro128;
  readonly #randomRng: Xoshiro128;

  constructor(o: TPESamplerOptions = {}) {
    this.#p = {
      considerPrior: o.considerPrior ?? true,
      priorWeight: o.priorWeight ?? 1,
      considerMagicClip: o.considerMagicClip ?? true,
      considerEndpoints: o.considerEndpoints ?? false,
      weights: o.weights ?? defaultWeights,
      multivariate: o.multivariate ?? true,
      scaledKernelDensity: o.scaledKernelDensity ?? false,
    };
    this.#nStartup = o.nStartupTrials ?? 10;
    this.#nEi = o.nEiCandidates ?? 24;
    this.#gamma = o.gamma ?? defaultGamma;
    this.#constantLiar = o.constantLiar ?? true;
    const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.#rng = new Xoshiro128(seed);
    this.#randomRng = new Xoshiro128(seed ^ 0x5bd1e995);
  }

  get multivariate(): boolean {
    return this.#p.multivariate;
  }

  inferRelativeSearchSpace(study: StudyView): Record<string, Distribution> {
    if (!this.#p.multivariate) return {};
    const finished = study.trials.filter((t) => t.state === TrialState.COMPLETE || t.state === TrialState.PRUNED);
    return intersectionSearchSpace(finished);
  }

  sampleRelative(study: StudyView, _trial: FrozenTrial, space: Record<string, Distribution>): Record<string, number> {
    if (Object.keys(space).length === 0) return {};
    const obs = observationPairs(study.trials, Object.keys(space), study.direction === 'maximize' ? -1 : 1, this.#constantLiar);
    const n = obs.scores.filter((s) => s[0] < Infinity).length;
    if (n < this.#nStartup) return {};
    return this.#sample(obs, space, n);
  }

  sampleIndependent(study: StudyView, _trial: FrozenTrial, name: string, d: Distribution): number {
    const obs = observationPairs(study.trials, [name], study.direction === 'maximize' ? -1 : 1, this.#constantLiar);
    const n = obs.scores.filter((s) => s[0] < Infinity).length;
    if (n < this.#nStartup) return sampleUniform(d, this.#randomRng);
    return this.#sample(obs, { [name]: d }, n)[name]!;
  }

  #sample(obs: Observations, space: Record<string, Distribution>, n: number): Record<string, number> {
    const [below, above] = splitObservations(obs.scores, this.#gamma(n));
    const names = Object.keys(space);
    const pick = (idx: number[]) => {
      const kept = idx.filter((i) => !Number.isNaN(obs.values[names[0]!]![i]!));
      return Object.fromEntries(names.map((k) => [k, Float64Array.from(kept, (i) => obs.values[k]![i]!)]));
    };
    const l = new ParzenEstimator(pick(below), space, this.#p);
    const g = new ParzenEstimator(pick(above), space, this.#p);
    const samples = l.sample(this.#rng, this.#nEi);
    const ll = l.logPdf(samples);
    const lg = g.logPdf(samples);
    let best = 0;
    for (let i = 1; i < ll.length; i++) if (ll[i]! - lg[i]! > ll[best]! - lg[best]!) best = i;
    return Object.fromEntries(names.map((k) => [k, samples[k]![best]!]));
  }
}

interface Observations {
  /** Internal values per parameter, NaN where a trial lacks it. */
  values: Record<string, number[]>;
  scores: Score[];
}

export function observationPairs(
  trials: readonly FrozenTrial[],
  names: readonly string[],
  sign: number,
  constantLiar: boolean,
): Observations {
  const values: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const scores: Score[] = [];
  for (const t of trials) {
    let score: Score;
    if (t.state === TrialState.COMPLETE) {
      if (t.value === null) continue;
      score = [-Infinity, sign * t.value];
    } else if (t.state === TrialState.PRUNED) {
      if (t.intermediateValues.size > 0) {
        const step = Math.max(...t.intermediateValues.keys());
        const v = t.intermediateValues.get(step)!;
        score = [-step, Number.isNaN(v) ? Infinity : sign * v];
      } else score = [1, 0];
    } else if (t.state === TrialState.RUNNING && constantLiar) {
      score = [Infinity, Infinity];
    } else continue;
    scores.push(score);
    for (const k of names) values[k]!.push(t.internalParams[k] ?? Number.NaN);
  }
  return { values, scores };
}

/** The γ best observations (lexicographic on (step, value), stable) and the rest, each in trial order. */
export function splitObservations(scores: readonly Score[], nBelow: number): [number[], number[]] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]![0] - scores[b]![0] || cmp(scores[a]![1], scores[b]![1]) || a - b);
  const below = order.slice(0, nBelow).sort((a, b) => a - b);
  const above = order.slice(nBelow).sort((a, b) => a - b);
  return [below, above];
}

const cmp = (a: number, b: number) => (a === b ? 0 : a < b ? -1 : 1);

/** Parameters present in every trial with one distribution (Optuna's IntersectionSearchSpace), sorted by name, singletons dropped. */
export function intersectionSearchSpace(trials: readonly FrozenTrial[]): Record<string, Distribution> {
  let space: Record<string, Distribution> | undefined;
  for (const t of trials) {
    if (!space) {
      space = { ...t.distributions };
      continue;
    }
    for (const k of Object.keys(space)) if (!t.distributions[k] || !sameDistribution(t.distributions[k], space[k]!)) delete space[k];
  }
  const out: Record<string, Distribution> = {};
  for (const k of Object.keys(space ?? {}).sort()) if (!isSingle(space![k]!)) out[k] = space![k]!;
  return out;
}
