/**
 * Max-sensitivity (Yeh et al. 2019, Captum's `sensitivity_max`): how much an explanation changes when the
 * input moves a little. For n perturbed copies x + δ_k, δ_k uniform in the L∞ ball of radius r:
 *
 *   sensitivity(x) = max_k ‖A(x + δ_k) − A(x)‖_F / ‖A(x)‖_F        (‖A(x)‖ = 0 counts as 1, as in Captum)
 *
 * Defaults as Captum's: r = 0.02, n = 10. The B·n copies are explained in one native job.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { ModelInput } from '../../model/tft-model.js';
import { Xoshiro128 } from '../../random/index.js';
import type { Attribution } from '../types.js';
import { repeatInput } from './perturbed-inputs.js';

export interface SensitivityOptions {
  radius?: number;
  nPerturbSamples?: number;
  seed?: number;
}

/** Per input, max over copies of the relative Frobenius distance of the copies' attributions to A(x). */
export function maxRelativeChange(base: Float32Array, copies: Float32Array, batch: number, n: number): Float64Array {
  const cells = base.length / Math.max(1, batch);
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let norm = 0;
    for (let i = 0; i < cells; i++) norm += base[b * cells + i]! ** 2;
    const denom = norm > 0 ? Math.sqrt(norm) : 1;
    let worst = 0;
    for (let k = 0; k < n; k++) {
      let d = 0;
      const r = (b * n + k) * cells;
      for (let i = 0; i < cells; i++) d += (copies[r + i]! - base[b * cells + i]!) ** 2;
      worst = Math.max(worst, Math.sqrt(d) / denom);
    }
    out[b] = worst;
  }
  return out;
}

export async function sensitivityMax(
  explain: (input: ModelInput) => Promise<Attribution>,
  input: ModelInput,
  base: Attribution,
  o: SensitivityOptions = {},
): Promise<{ perInput: Float64Array; mean: number }> {
  const r = o.radius ?? 0.02;
  const n = o.nPerturbSamples ?? 10;
  if (!(r > 0)) throw new InvalidArgumentError(`radius: must be > 0, got ${r}`, 'radius');
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`nPerturbSamples: must be an integer >= 1, got ${n}`, 'nPerturbSamples');
  const copies = repeatInput(input, n, base.steps, base.features);
  const rng = new Xoshiro128(o.seed ?? 0);
  for (let i = 0; i < copies.x.length; i++) copies.x[i] = copies.x[i]! + r * (2 * rng.uniform() - 1);
  const perturbed = await explain(copies);
  const perInput = maxRelativeChange(base.attributions, perturbed.attributions, input.batch, n);
  return { perInput, mean: perInput.reduce((s, v) => s + v, 0) / Math.max(1, perInput.length) };
}
