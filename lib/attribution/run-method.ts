/**
 * One attribution method by name with the settings an analysis uses (the step the checkpoint explanation,
 * the AttributionAnalyzer and the CLI share), and the short names the CLI accepts.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ModelInput } from '../model/tft-model.js';
import type { Explainer } from './explainer.js';
import type { Attribution, GradientMethod } from './types.js';

export type ExplainMethod = GradientMethod | 'deepLift' | 'deepLiftShap' | 'featureAblation' | 'featurePermutation';
export const EXPLAIN_METHODS: readonly ExplainMethod[] = [
  'integratedGradients',
  'saliency',
  'inputXGradient',
  'gradientShap',
  'deepLift',
  'deepLiftShap',
  'featureAblation',
  'featurePermutation',
];

/** Short names (as in the seed's configs) → methods. */
export const METHOD_ALIASES: Readonly<Record<string, ExplainMethod>> = {
  ig: 'integratedGradients',
  gradshap: 'gradientShap',
  deeplift: 'deepLift',
  deepliftshap: 'deepLiftShap',
  saliency: 'saliency',
  ixg: 'inputXGradient',
  ablation: 'featureAblation',
  permutation: 'featurePermutation',
};

export interface MethodSettings {
  /** Integrated Gradients' steps (default 50). */
  nSteps?: number;
  /** GradientSHAP's samples (default 16). */
  nSamples?: number;
  seed?: number;
  /** DeepLiftShap's (and GradientSHAP's, when given) baseline distribution [K·T·F]. */
  distribution?: Float32Array;
}

export function requireMethod(m: string): ExplainMethod {
  const resolved = (EXPLAIN_METHODS as readonly string[]).includes(m) ? (m as ExplainMethod) : METHOD_ALIASES[m.toLowerCase()];
  if (!resolved)
    throw new InvalidArgumentError(
      `method: must be one of ${EXPLAIN_METHODS.join(', ')} (or ${Object.keys(METHOD_ALIASES).join(', ')}), got ${m}`,
      'method',
    );
  return resolved;
}

export function runMethod(ex: Explainer, method: ExplainMethod, input: ModelInput, s: MethodSettings = {}): Promise<Attribution> {
  switch (method) {
    case 'integratedGradients':
      return ex.integratedGradients(input, { nSteps: s.nSteps ?? 50 });
    case 'saliency':
      return ex.saliency(input);
    case 'inputXGradient':
      return ex.inputXGradient(input);
    case 'gradientShap':
      return ex.gradientShap(input, { baselines: s.distribution ?? 'zeros', nSamples: s.nSamples ?? 16, stdevs: 0.1, seed: s.seed ?? 0 });
    case 'deepLift':
      return ex.deepLift(input);
    case 'deepLiftShap':
      if (!s.distribution) throw new InvalidArgumentError('deepLiftShap: needs a baseline distribution', 'baselines');
      return ex.deepLiftShap(input, { baselines: s.distribution });
    case 'featureAblation':
      return ex.featureAblation(input);
    case 'featurePermutation':
      return ex.featurePermutation(input, { seed: s.seed ?? 0 });
  }
  throw new InvalidArgumentError(`method: unknown method ${String(method)}`, 'method');
}
