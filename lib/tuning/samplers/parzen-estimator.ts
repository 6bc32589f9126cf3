/**
 * The Parzen estimator of TPE, as Optuna defines it (optuna/samplers/_tpe/parzen_estimator.py): one kernel
 * per observation plus a prior kernel, mixed with the weights ramp.
 *
 * Numerical parameters live in their transformed space (log for log distributions; stepped ones widened
 * by half a step each side). Each kernel is a normal truncated to [low, high]:
 *   prior     μ = (low + high)/2, σ = high − low, weight priorWeight
 *   multivariate  σ = 0.2 · n^(−1/(d+4)) · (high − low) for every kernel (a Scott-like joint bandwidth)
 *   univariate    σ = the larger gap to the sorted neighbours (bounds as neighbours)
 * clipped to [(high − low)/min(100, 1 + kernels), high − low] ("magic clip"). A stepped parameter's
 * density is the kernel's mass over the value's cell. Categorical kernels put priorWeight/(n + 1) on every
 * choice and 1 more on the observed one, normalised.
 *
 * A continuous kernel's log density is Optuna 3.1's: log φ(z) − log P(low < X < high) with z = (x − μ)/σ,
 * without the −log σ of a normalised density (Optuna 3.1's truncnorm.logpdf leaves it out; later Optuna adds
 * it). `scaledKernelDensity` adds it. On benchmarks/tuning.bench.ts the 3.1 form found the better optima on
 * the 13-D mixed problem (mean best 5.0 vs 5.7 multivariate, 10 seeds) and tracks Debian's Optuna closely,
 * so it is the default.
 */
import type { Distribution } from '../distributions.js';
import type { Xoshiro128 } from '../../random/prng.js';
import { logGaussMass, normLogPdf, truncnormPpf } from './truncnorm.js';

export interface ParzenParameters {
  considerPrior: boolean;
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  weights: (n: number) => number[];
  multivariate: boolean;
  /** Include −log σ in continuous kernels' density (later Optuna); default false (Optuna 3.1). */
  scaledKernelDensity?: boolean;
}

interface NumericKernels {
  kind: 'numeric';
  dist: Distribution & { kind: 'float' | 'int' };
  low: number;
  high: number;
  q: number | null;
  mus: Float64Array;
  sigmas: Float64Array;
  /** log P(low < X < high) of each kernel. */
  logMass: Float64Array;
}

interface CategoricalKernels {
  kind: 'categorical';
  nChoices: number;
  /** [kernels × choices], rows summing to 1. */
  probs: Float64Array;
}

type Kernels = NumericKernels | CategoricalKernels;

/** Optuna's default weights: flat for the 25 most recent observations, a linear ramp from 1/n before them. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = Array.from({ length: n - 25 }, (_, i) => (n - 25 === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (n - 26)));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

/** A 53-bit uniform in [0, 1). */
export function uniform53(rng: Xoshiro128): number {
  return ((rng.nextUint32() >>> 5) * 67108864 + (rng.nextUint32() >>> 6)) / 9007199254740992;
}

export class ParzenEstimator {
  readonly weights: Float64Array;
  readonly kernels: Map<string, Kernels>;
  readonly #space: Record<string, Distribution>;
  readonly #scaled: boolean;

  /** observations: internal values per parameter, one per observation, in trial order. */
  constructor(observations: Record<string, Float64Array>, space: Record<string, Distribution>, p: ParzenParameters) {
    this.#space = space;
    this.#scaled = p.scaledKernelDensity ?? false;
    const names = Object.keys(space);
    const n = names.length ? observations[names[0]!]!.length : 0;
    const prior = p.considerPrior || n === 0;
    this.weights = kernelWeights(n, prior, p);
    const sigma0 = p.multivariate ? 0.2 * Math.max(n, 1) ** (-1 / (names.length + 4)) : null;
    this.kernels = new Map();
    for (const name of names) {
      const d = space[name]!;
      const obs = observations[name]!;
      this.kernels.set(
        name,
        d.kind === 'categorical'
          ? categoricalKernels(obs, d.choices.length, prior, p.priorWeight)
          : numericKernels(obs, d, prior, sigma0, p),
      );
    }
  }

  get size(): number {
    return this.weights.length;
  }

  /** `size` draws, internal values per parameter. */
  sample(rng: Xoshiro128, size: number): Record<string, Float64Array> {
    const cum = cumulative(this.weights);
    const active = Int32Array.from({ length: size }, () => pick(cum, uniform53(rng)));
    const out: Record<string, Float64Array> = {};
    for (const [name, k] of this.kernels) {
      const s = new Float64Array(size);
      for (let i = 0; i < size; i++) {
        const j = active[i]!;
        if (k.kind === 'categorical') {
          s[i] = pick(cumulative(k.probs.subarray(j * k.nChoices, (j + 1) * k.nChoices)), uniform53(rng));
        } else {
          const mu = k.mus[j]!;
          const sg = k.sigmas[j]!;
          s[i] = truncnormPpf(uniform53(rng), (k.low - mu) / sg, (k.high - mu) / sg) * sg + mu;
        }
      }
      out[name] = fromTransformed(this.#space[name]!, s, k);
    }
    return out;
  }

  /** log density of each sample (internal values) under the mixture. */
  logPdf(samples: Record<string, Float64Array>): Float64Array {
    const names = [...this.kernels.keys()];
    const m = names.length ? samples[names[0]!]!.length : 0;
    const K = this.size;
    const comp = new Float64Array(m * K);
    for (let j = 0; j < K; j++) {
      const lw = Math.log(this.weights[j]!);
      for (let i = 0; i < m; i++) comp[i * K + j] = lw;
    }
    for (const name of names) addLogPdf(comp, this.kernels.get(name)!, this.#space[name]!, samples[name]!, K, this.#scaled);
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let mx = -Infinity;
      for (let j = 0; j < K; j++) mx = Math.max(mx, comp[i * K + j]!);
      let s = 0;
      for (let j = 0; j < K; j++) s += Math.exp(comp[i * K + j]! - mx);
      out[i] = mx === -Infinity ? -Infinity : Math.log(s) + mx;
    }
    return out;
  }
}

function kernelWeights(n: number, prior: boolean, p: ParzenParameters): Float64Array {
  const w = p.weights(n).slice(0, n);
  const out = new Float64Array(n + (prior ? 1 : 0));
  w.forEach((v, i) => (out[i] = v));
  if (prior) out[n] = p.priorWeight;
  const total = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / total);
}

function categoricalKernels(obs: Float64Array, nChoices: number, prior: boolean, priorWeight: number): CategoricalKernels {
  const n = obs.length;
  const rows = n + (prior ? 1 : 0);
  const base = prior ? priorWeight / (n + 1) : priorWeight / n;
  const probs = new Float64Array(rows * nChoices).fill(base);
  for (let i = 0; i < n; i++) probs[i * nChoices + obs[i]!]! += 1;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < nChoices; c++) s += probs[r * nChoices + c]!;
    for (let c = 0; c < nChoices; c++) probs[r * nChoices + c]! /= s;
  }
  return { kind: 'categorical', nChoices, probs };
}

/** Optuna's Parzen bounds: log space for log distributions, half a step beyond each end for stepped ones. */
function parzenBounds(d: Distribution & { kind: 'float' | 'int' }): { low: number; high: number; q: number | null } {
  if (d.kind === 'float') {
    if (d.log) return { low: Math.log(d.low), high: Math.log(d.high), q: null };
    if (d.step !== null) return { low: d.low - 0.5 * d.step, high: d.high + 0.5 * d.step, q: d.step };
    return { low: d.low, high: d.high, q: null };
  }
  if (d.log) return { low: Math.log(d.low - 0.5), high: Math.log(d.high + 0.5), q: null };
  return { low: d.low - 0.5 * d.step, high: d.high + 0.5 * d.step, q: d.step };
}

function numericKernels(
  obsInternal: Float64Array,
  d: Distribution & { kind: 'float' | 'int' },
  prior: boolean,
  sigma0: number | null,
  p: ParzenParameters,
): NumericKernels {
  const { low, high, q } = parzenBounds(d);
  const obs = d.log ? obsInternal.map(Math.log) : obsInternal;
  const n = obs.length;
  const K = n + (prior ? 1 : 0);
  const mus = new Float64Array(K);
  mus.set(obs);
  if (prior) mus[n] = 0.5 * (low + high);
  const sigmas = sigma0 !== null ? new Float64Array(K).fill(sigma0 * (high - low)) : neighbourSigmas(mus, low, high, p.considerEndpoints);
  const minSigma = p.considerMagicClip ? (high - low) / Math.min(100, 1 + K) : 1e-12;
  for (let j = 0; j < K; j++) sigmas[j] = Math.min(high - low, Math.max(minSigma, sigmas[j]!));
  if (prior) sigmas[n] = high - low;
  const logMass = new Float64Array(K);
  for (let j = 0; j < K; j++) logMass[j] = logGaussMass((low - mus[j]!) / sigmas[j]!, (high - mus[j]!) / sigmas[j]!);
  return { kind: 'numeric', dist: d, low, high, q, mus, sigmas, logMass };
}

/** Univariate bandwidth: the larger gap to the neighbouring kernel centres, the bounds acting as neighbours. */
function neighbourSigmas(mus: Float64Array, low: number, high: number, considerEndpoints: boolean): Float64Array {
  const K = mus.length;
  const order = Array.from(mus.keys()).sort((a, b) => mus[a]! - mus[b]! || a - b);
  const ext = [low, ...order.map((i) => mus[i]!), high];
  const sorted = new Float64Array(K);
  for (let i = 0; i < K; i++) sorted[i] = Math.max(ext[i + 1]! - ext[i]!, ext[i + 2]! - ext[i + 1]!);
  if (!considerEndpoints && ext.length >= 4) {
    sorted[0] = ext[2]! - ext[1]!;
    sorted[K - 1] = ext[ext.length - 2]! - ext[ext.length - 3]!;
  }
  const out = new Float64Array(K);
  order.forEach((i, r) => (out[i] = sorted[r]!));
  return out;
}

function addLogPdf(comp: Float64Array, k: Kernels, d: Distribution, samples: Float64Array, K: number, scaled: boolean): void {
  const m = samples.length;
  if (k.kind === 'categorical') {
    for (let i = 0; i < m; i++) {
      const c = samples[i]!;
      for (let j = 0; j < K; j++) comp[i * K + j]! += Math.log(k.probs[j * k.nChoices + c]!);
    }
    return;
  }
  const log = d.kind !== 'categorical' && d.log;
  if (k.q === null) {
    for (let i = 0; i < m; i++) {
      const x = log ? Math.log(samples[i]!) : samples[i]!;
      for (let j = 0; j < K; j++) {
        const sg = k.sigmas[j]!;
        const z = (x - k.mus[j]!) / sg;
        comp[i * K + j]! += x < k.low || x > k.high ? -Infinity : normLogPdf(z) - (scaled ? Math.log(sg) : 0) - k.logMass[j]!;
      }
    }
    return;
  }
  // A stepped value's probability is its kernel's mass over the value's cell; samples repeat grid values,
  // so each distinct value is computed once.
  const cache = new Map<number, Float64Array>();
  for (let i = 0; i < m; i++) {
    const x = samples[i]!;
    let row = cache.get(x);
    if (!row) {
      row = new Float64Array(K);
      const lo = Math.max(x - k.q / 2, k.low);
      const hi = Math.min(x + k.q / 2, k.high);
      for (let j = 0; j < K; j++) {
        const sg = k.sigmas[j]!;
        row[j] = logGaussMass((lo - k.mus[j]!) / sg, (hi - k.mus[j]!) / sg) - k.logMass[j]!;
      }
      cache.set(x, row);
    }
    for (let j = 0; j < K; j++) comp[i * K + j]! += row[j]!;
  }
}

/** From the kernel space back to internal values: exp for log, rounding onto the step grid, clipped to the bounds. */
function fromTransformed(d: Distribution, s: Float64Array, k: Kernels): Float64Array {
  if (d.kind === 'categorical' || k.kind === 'categorical') return s;
  if (d.kind === 'float') {
    if (d.log) return s.map((v) => Math.min(d.high, Math.max(d.low, Math.exp(v))));
    if (d.step !== null) return s.map((v) => Math.min(d.high, Math.max(d.low, Math.round((v - d.low) / d.step!) * d.step! + d.low)));
    return s.map((v) => Math.min(d.high, Math.max(d.low, v)));
  }
  if (d.log) return s.map((v) => Math.min(d.high, Math.max(d.low, Math.round(Math.exp(v)))));
  return s.map((v) => Math.min(d.high, Math.max(d.low, Math.round((v - d.low) / d.step) * d.step + d.low)));
}

function cumulative(w: ArrayLike<number>): Float64Array {
  const out = new Float64Array(w.length);
  let s = 0;
  for (let i = 0; i < w.length; i++) out[i] = s += w[i]!;
  return out;
}

/** Index of the first cumulative weight ≥ u · total (np.random.choice with p, and Optuna's categorical draw). */
function pick(cum: Float64Array, u: number): number {
  const target = u * cum[cum.length - 1]!;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
