/**
 * Explanation infidelity (Yeh et al. 2019, Captum's `infidelity`): how well an attribution predicts the
 * model's response to perturbations. For an input x with attribution A and perturbations I_k (k = 1..n),
 * x_k = x − I_k:
 *
 *   infidelity(x) = (1/n) Σ_k (I_kᵀA − (F(x) − F(x_k)))²
 *
 * and, normalised (Captum's `normalize=True`), with A scaled by the least-squares β = Σ_k I_kᵀA·ΔF_k / Σ_k (I_kᵀA)²:
 *
 *   infidelity(x) = (1/n) Σ_k (β I_kᵀA − ΔF_k)²
 *
 * Built-in perturbations, drawn from the seed: 'gaussian' (I ~ N(0, stdev²) on every cell) and 'groupDrop'
 * (each feature group dropped — set to 0, the normalised mean — with probability dropProbability, so
 * I = x on its cells). All B·n perturbed inputs run as one native prediction job.
 *
 * The formula wants local attributions (sensitivities, as Saliency's). Methods that multiply by the input
 * (Integrated Gradients, Input × Gradient, GradientSHAP, DeepLift, against zero baselines: Captum's
 * `multiply_by_inputs=True`) are divided by it first, A_i / x_i (0 where x_i = 0), as Captum asks for by
 * `multiply_by_inputs=False`; for 'groupDrop' that makes I_kᵀA the attribution of the dropped cells.
 * Defaults: 'groupDrop' for those methods, 'gaussian' for Saliency.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { ModelInput, TFTModel } from '../../model/tft-model.js';
import { Xoshiro128 } from '../../random/index.js';
import type { Attribution, AttributionTarget } from '../types.js';
import { repeatInput } from './perturbed-inputs.js';

export type InfidelityPerturbation = 'gaussian' | 'groupDrop';

export interface InfidelityOptions {
  /** Default: 'groupDrop' for attributions multiplied by the input, 'gaussian' for local ones. */
  perturbation?: InfidelityPerturbation;
  /** Whether the attribution is multiplied by the input; default from its method (all but Saliency). */
  multipliedByInputs?: boolean;
  /** Perturbations per input (Captum's n_perturb_samples), default 10. */
  nPerturbSamples?: number;
  /** 'gaussian': the noise's standard deviation, default 0.1 (inputs are normalised features). */
  stdev?: number;
  /** 'groupDrop': the probability that each group is dropped, default 0.2. */
  dropProbability?: number;
  /** 'groupDrop': a group id per feature; default one group per feature. */
  groups?: readonly number[];
  normalize?: boolean;
  seed?: number;
}

export interface Perturbations {
  /** [B·n, T, F]: I, input-major (row b·n + k). */
  perturbation: Float32Array;
  /** [B·n, T, F]: x − I. */
  perturbed: ModelInput;
}

function requireCount(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name}: must be an integer >= 1, got ${n}`, name);
}

export function drawPerturbations(input: ModelInput, steps: number, features: number, o: InfidelityOptions): Perturbations {
  const n = o.nPerturbSamples ?? 10;
  requireCount(n, 'nPerturbSamples');
  const kind = o.perturbation ?? 'groupDrop';
  const rng = new Xoshiro128(o.seed ?? 0);
  const perturbed = repeatInput(input, n, steps, features);
  const I = new Float32Array(perturbed.x.length);
  const cells = steps * features;
  if (kind === 'gaussian') {
    const sd = o.stdev ?? 0.1;
    if (!(sd > 0)) throw new InvalidArgumentError(`stdev: must be > 0, got ${sd}`, 'stdev');
    for (let i = 0; i < I.length; i++) I[i] = sd * rng.normal();
  } else if (kind === 'groupDrop') {
    const p = o.dropProbability ?? 0.2;
    if (!(p > 0 && p < 1)) throw new InvalidArgumentError(`dropProbability: must be in (0, 1), got ${p}`, 'dropProbability');
    const groups = o.groups ?? Array.from({ length: features }, (_, f) => f);
    if (groups.length !== features) throw new InvalidArgumentError(`groups: needs one id per feature (${features})`, 'groups');
    const G = Math.max(...groups) + 1;
    for (let r = 0; r < input.batch * n; r++) {
      const drop = Array.from({ length: G }, () => rng.uniform() < p);
      for (let t = 0; t < steps; t++)
        for (let f = 0; f < features; f++) {
          const i = r * cells + t * features + f;
          if (drop[groups[f]!]) I[i] = perturbed.x[i]!;
        }
    }
  } else {
    throw new InvalidArgumentError(`perturbation: must be 'gaussian' or 'groupDrop', got ${String(kind)}`, 'perturbation');
  }
  for (let i = 0; i < I.length; i++) perturbed.x[i] = perturbed.x[i]! - I[i]!;
  return { perturbation: I, perturbed };
}

function outputOf(p: { position: Float32Array; mu: Float32Array; sigma: Float32Array }, target: AttributionTarget): Float32Array {
  return target === 'mu' ? p.mu : target === 'sigma' ? p.sigma : p.position;
}

/** Infidelity per input [B] and its mean, from precomputed perturbations (Captum's formula). */
export function infidelityFromPerturbations(
  attribution: Pick<Attribution, 'attributions' | 'outputs' | 'batch' | 'steps' | 'features'>,
  perturbation: Float32Array,
  perturbedOutputs: ArrayLike<number>,
  n: number,
  normalize: boolean,
): Float64Array {
  const { batch: B, steps: T, features: F } = attribution;
  const cells = T * F;
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let aa = 0;
    let ab = 0;
    let bb = 0;
    for (let k = 0; k < n; k++) {
      const r = b * n + k;
      let dot = 0;
      for (let i = 0; i < cells; i++) dot += perturbation[r * cells + i]! * attribution.attributions[b * cells + i]!;
      const df = attribution.outputs[b]! - perturbedOutputs[r]!;
      aa += dot * dot;
      ab += dot * df;
      bb += df * df;
    }
    const beta = normalize ? (aa > 0 ? ab / aa : 0) : 1;
    out[b] = (beta * beta * aa - 2 * beta * ab + bb) / n;
  }
  return out;
}

/** A / x elementwise (0 where x = 0): the local attribution of a method that multiplies by its input. */
export function divideByInputs(attributions: Float32Array, x: Float32Array): Float32Array {
  return Float32Array.from(attributions, (a, i) => (x[i] !== 0 ? a / x[i]! : 0));
}

function multipliesByInputs(a: Attribution): boolean {
  return !a.method.startsWith('saliency') && a.method !== 'noiseTunnel(saliency)';
}

/** Infidelity of an attribution of `input` under the model (one prediction job over B·n perturbed inputs). */
export async function infidelity(
  model: TFTModel,
  input: ModelInput,
  attribution: Attribution,
  o: InfidelityOptions = {},
): Promise<{ perInput: Float64Array; mean: number }> {
  const n = o.nPerturbSamples ?? 10;
  const global = o.multipliedByInputs ?? multipliesByInputs(attribution);
  const opts = { ...o, perturbation: o.perturbation ?? (global ? 'groupDrop' : 'gaussian') };
  const { perturbation, perturbed } = drawPerturbations(input, attribution.steps, attribution.features, opts);
  const local = global ? { ...attribution, attributions: divideByInputs(attribution.attributions, input.x) } : attribution;
  const pred = await model.predictBatch(perturbed, attribution.step === attribution.steps - 1 ? {} : { allSteps: true });
  let y = outputOf(pred, attribution.target);
  if (attribution.step !== attribution.steps - 1)
    y = Float32Array.from({ length: perturbed.batch }, (_, r) => y[r * attribution.steps + attribution.step]!);
  const perInput = infidelityFromPerturbations(local, perturbation, y, n, o.normalize ?? false);
  return { perInput, mean: perInput.reduce((s, v) => s + v, 0) / Math.max(1, perInput.length) };
}
