/**
 * Which inputs drive a TFT's decisions: gradient methods (Saliency, Input×Gradient, Integrated Gradients,
 * GradientSHAP, each optionally in a noise tunnel), DeepLift and DeepLiftShap, and perturbation methods (feature ablation and
 * permutation), with Captum's definitions. Every method is one native job off the JS thread: the
 * interpolated and noisy inputs are generated natively and their gradients summed as they are computed,
 * so memory stays flat in nSteps and nSamples. docs/attribution.md has the definitions and the cost model.
 */
import { InvalidArgumentError } from '../errors.js';
import { loadAddon } from '../native/loader.js';
import type { NativeAttribution, NativeDeepLiftOptions, NativeGradientOptions, NativePerturbationOptions } from '../native/addon-types.js';
import { modelInputArgs, requireObject, TFTModel, type ModelInput } from '../model/tft-model.js';
import { ablationBaselineArgs, baselineArgs, contextBaselineArgs, groupArgs } from './inputs.js';
import { featureImportance, stepImportance } from './summary.js';
import type {
  Attribution,
  AttributionMethod,
  CommonAttributionOptions,
  ContextAttributionOptions,
  DeepLiftOptions,
  DeepLiftShapOptions,
  FeatureAblationOptions,
  FeaturePermutationOptions,
  GradientMethod,
  GradientShapOptions,
  IntegratedGradientsOptions,
  NoiseTunnelOptions,
  SaliencyOptions,
} from './types.js';

const GRADIENT_METHODS: readonly GradientMethod[] = ['saliency', 'inputXGradient', 'integratedGradients', 'gradientShap'];

function requireOptions<T extends object>(o: T | undefined): T {
  return o === undefined ? ({} as T) : requireObject(o, 'options');
}

export class Explainer {
  readonly model: TFTModel;

  constructor(model: TFTModel) {
    if (!(model instanceof TFTModel)) throw new InvalidArgumentError('model: must be a TFTModel', 'model');
    this.model = model;
  }

  /** ∂output/∂input at the input; |·| unless abs is false. */
  async saliency(input: ModelInput, opts?: SaliencyOptions): Promise<Attribution> {
    const o = requireOptions(opts);
    return await this.#gradients('saliency', input, o, { abs: o.abs });
  }

  /** input ⊙ ∂output/∂input. */
  async inputXGradient(input: ModelInput, opts?: CommonAttributionOptions & ContextAttributionOptions): Promise<Attribution> {
    return await this.#gradients('inputXGradient', input, requireOptions(opts), {});
  }

  /** (x − x′) ⊙ ∫₀¹ ∂F(x′ + α(x − x′))/∂x dα by the chosen quadrature, with the convergence delta. */
  async integratedGradients(input: ModelInput, opts?: IntegratedGradientsOptions): Promise<Attribution> {
    const o = requireOptions(opts);
    return await this.#gradients('integratedGradients', input, o, {
      nSteps: o.nSteps,
      integration: o.method,
      ...this.#baselines(input, o.baselines),
    });
  }

  /** Expected gradients: per sample a random baseline row, α ~ U(0, 1) and optional input noise. */
  async gradientShap(input: ModelInput, opts?: GradientShapOptions): Promise<Attribution> {
    const o = requireOptions(opts);
    return await this.#gradients('gradientShap', input, o, {
      nSamples: o.nSamples,
      stdevs: o.stdevs,
      ...this.#baselines(input, o.baselines),
    });
  }

  /** Any gradient method averaged over noisy copies of the input (SmoothGrad, its square, VarGrad). */
  async noiseTunnel(method: GradientMethod, input: ModelInput, opts?: NoiseTunnelOptions): Promise<Attribution> {
    if (!GRADIENT_METHODS.includes(method))
      throw new InvalidArgumentError(`method: must be one of ${GRADIENT_METHODS.join(', ')}, got ${String(method)}`, 'method');
    const o = requireOptions(opts);
    const inner = requireOptions(o.inner);
    return await this.#gradients(
      method,
      input,
      o,
      {
        abs: inner.abs,
        nSteps: inner.nSteps,
        integration: inner.method,
        nSamples: inner.nSamples,
        stdevs: inner.stdevs,
        tunnel: { type: o.type ?? 'smoothgrad', nSamples: o.nSamples, stdevs: o.stdevs, drawBaselinePerNoise: o.drawBaselinePerNoise },
        ...this.#baselines(input, o.baselines),
      },
      `noiseTunnel(${method})`,
    );
  }

  /**
   * DeepLift: (x − x′) ⊙ multipliers, with the rescale rule for every nonlinearity and the product rule for
   * the gates and the attention, so that Σ attributions = F(x) − F(x′) exactly (delta: rounding only).
   */
  async deepLift(input: ModelInput, opts?: DeepLiftOptions): Promise<Attribution> {
    const o = requireOptions(opts);
    return await this.#deepLift('deepLift', input, o, this.#baselines(input, o.baselines));
  }

  /** DeepLift against every row of a baseline distribution, averaged (Captum's DeepLiftShap). */
  async deepLiftShap(input: ModelInput, opts: DeepLiftShapOptions): Promise<Attribution> {
    const o = requireObject(opts, 'options');
    if (!(o.baselines instanceof Float32Array))
      throw new InvalidArgumentError('baselines: deepLiftShap needs a distribution of baselines [K·T·F]', 'baselines');
    return await this.#deepLift('deepLiftShap', input, o, this.#baselines(input, o.baselines));
  }

  /** F(x) − F(x with the group replaced by the baseline), for each group of (step, feature) cells. */
  async featureAblation(input: ModelInput, opts?: FeatureAblationOptions): Promise<Attribution> {
    const o = requireOptions(opts);
    const steps = input.steps ?? this.model.config.seqLen;
    const { groups } = groupArgs(o.groups, steps, this.model.config.nFeatures);
    return await this.#perturbation('featureAblation', input, o, {
      permutation: false,
      groups,
      ...ablationBaselineArgs(o.baselines, steps, this.model.config.nFeatures),
    });
  }

  /** F(x) − F(x with the group's values permuted across the batch), for each group. */
  async featurePermutation(input: ModelInput, opts?: FeaturePermutationOptions): Promise<Attribution> {
    const o = requireOptions(opts);
    const steps = input.steps ?? this.model.config.seqLen;
    const { groups, groupCount } = groupArgs(o.groups, steps, this.model.config.nFeatures);
    return await this.#perturbation('featurePermutation', input, o, {
      permutation: true,
      groups,
      permutations: o.permutations,
      groupCount: o.permutations ? groupCount : undefined,
    });
  }

  #baselines(input: ModelInput, b: IntegratedGradientsOptions['baselines']) {
    return baselineArgs(b, input.steps ?? this.model.config.seqLen, this.model.config.nFeatures);
  }

  #common(input: ModelInput, o: CommonAttributionOptions) {
    const { steps, ...inputs } = modelInputArgs(this.model.config, input);
    return { steps, native: { ...inputs, target: o.target, step: o.step, seed: o.seed } };
  }

  async #gradients(
    method: GradientMethod,
    input: ModelInput,
    o: CommonAttributionOptions & ContextAttributionOptions,
    extra: Partial<NativeGradientOptions>,
    label: AttributionMethod = method,
  ): Promise<Attribution> {
    const { steps, native } = this.#common(input, o);
    const options: NativeGradientOptions = {
      ...native,
      ...extra,
      ...contextBaselineArgs(o, input, this.model.config),
      method,
      internalBatchSize: o.internalBatchSize,
      draws: o.draws,
    };
    const r = await loadAddon().attributeGradients(TFTModel.nativeOf(this.model), input.x, input.batch, steps, options);
    return this.#result(label, r, input.batch, steps, o);
  }

  async #deepLift(
    label: 'deepLift' | 'deepLiftShap',
    input: ModelInput,
    o: CommonAttributionOptions & ContextAttributionOptions,
    baselines: Partial<NativeDeepLiftOptions>,
  ): Promise<Attribution> {
    const { steps, native } = this.#common(input, o);
    const r = await loadAddon().attributeDeepLift(TFTModel.nativeOf(this.model), input.x, input.batch, steps, {
      ...native,
      ...baselines,
      ...contextBaselineArgs(o, input, this.model.config),
      shap: label === 'deepLiftShap',
      internalBatchSize: o.internalBatchSize,
    });
    return this.#result(label, r, input.batch, steps, o);
  }

  async #perturbation(
    label: AttributionMethod,
    input: ModelInput,
    o: CommonAttributionOptions,
    extra: Partial<NativePerturbationOptions> & { permutation: boolean },
  ): Promise<Attribution> {
    const { steps, native } = this.#common(input, o);
    const r = await loadAddon().attributePerturbation(TFTModel.nativeOf(this.model), input.x, input.batch, steps, {
      ...native,
      ...extra,
    });
    return this.#result(label, r, input.batch, steps, o);
  }

  #result(method: AttributionMethod, r: NativeAttribution, batch: number, steps: number, o: CommonAttributionOptions): Attribution {
    const features = this.model.config.nFeatures;
    return {
      method,
      target: o.target ?? 'position',
      step: o.step === undefined || o.step === -1 ? steps - 1 : o.step,
      batch,
      steps,
      features,
      attributions: r.attributions,
      outputs: r.outputs,
      ...(r.delta ? { delta: r.delta } : {}),
      ...(r.contextAttributions ? { contextAttributions: r.contextAttributions } : {}),
      featureImportance: featureImportance(r.attributions, batch, steps, features),
      stepImportance: stepImportance(r.attributions, batch, steps, features),
    };
  }
}
