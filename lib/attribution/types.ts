/** The options and results of the attribution methods (see docs/attribution.md for the definitions). */

/** The model output explained: position (default), or the predicted return's mean or scale. */
export type AttributionTarget = 'position' | 'mu' | 'sigma';

export type GradientMethod = 'saliency' | 'inputXGradient' | 'integratedGradients' | 'gradientShap';
export type AttributionMethod =
  GradientMethod | 'deepLift' | 'deepLiftShap' | 'featureAblation' | 'featurePermutation' | `noiseTunnel(${GradientMethod})`;

export type IntegrationMethod = 'gausslegendre' | 'riemann_left' | 'riemann_right' | 'riemann_middle' | 'riemann_trapezoid';
export type NoiseTunnelType = 'smoothgrad' | 'smoothgrad_sq' | 'vargrad';

/**
 * Reference inputs: 'zeros' (the default: after normalisation, the training mean), 'gaussian' (N(0, 1) per
 * input, from the seed), or values: [T·F] shared by every input, [B·T·F] one per input, or (GradientSHAP,
 * tunnel copies that draw one) [K·T·F], a distribution of K rows.
 */
export type Baselines = 'zeros' | 'gaussian' | Float32Array;

/** Random draws given instead of drawn from the seed, to reproduce another implementation exactly. */
export interface AttributionDraws {
  /** [B·P, T, F] the noise tunnel's noise (scaled), copy q = b·P + p. */
  noise?: Float32Array;
  /** [B·P] the baseline row of each tunnel copy (drawBaselinePerNoise). */
  tunnelBaseline?: Int32Array;
  /** [B·P·S, T, F] GradientSHAP's noise (scaled), row r = q·S + s. */
  shapNoise?: Float32Array;
  /** [B·P·S] GradientSHAP's interpolation coefficients. */
  shapAlpha?: Float32Array;
  /** [B·P·S] GradientSHAP's baseline rows. */
  shapBaseline?: Int32Array;
}

export interface CommonAttributionOptions {
  target?: AttributionTarget;
  /** The step of the window explained; default the last. */
  step?: number;
  /** Seeds every random draw: the same seed gives bit-identical attributions whatever the thread count. */
  seed?: number;
  /** Rows per forward/backward pass; default from a 512 MiB budget. Memory does not grow with nSteps. */
  internalBatchSize?: number;
  draws?: AttributionDraws;
}

/**
 * X-Trend models: attribute to the context sequences too, treating them as a second input (Captum's tuple
 * of inputs). Integrated Gradients then integrates from (baseline, contextBaselines) to (x, context), so
 * its delta covers both.
 */
export interface ContextAttributionOptions {
  contextAttributions?: boolean;
  /** [nContext·contextLen·F] shared or [B·nContext·contextLen·F] per input; default zeros. */
  contextBaselines?: Float32Array;
}

export interface SaliencyOptions extends CommonAttributionOptions, ContextAttributionOptions {
  /** |gradient| (Captum's default). */
  abs?: boolean;
}

export interface IntegratedGradientsOptions extends CommonAttributionOptions, ContextAttributionOptions {
  baselines?: Baselines;
  nSteps?: number;
  method?: IntegrationMethod;
}

export interface GradientShapOptions extends CommonAttributionOptions {
  /** A distribution of reference inputs [K·T·F]; default a single zeros row. */
  baselines?: Baselines;
  nSamples?: number;
  /** The Gaussian noise added to the input for each sample. */
  stdevs?: number;
}

export interface NoiseTunnelOptions extends CommonAttributionOptions {
  type?: NoiseTunnelType;
  /** Noisy copies per input (Captum's nt_samples), default 5. */
  nSamples?: number;
  /** The noise's standard deviation, default 1. */
  stdevs?: number;
  /** Integrated Gradients: each noisy copy takes a random row of `baselines` (a distribution). */
  drawBaselinePerNoise?: boolean;
  baselines?: Baselines;
  /** The tunnelled method's own options (nSteps and method for IG, nSamples and stdevs for GradientSHAP, abs). */
  inner?: { nSteps?: number; method?: IntegrationMethod; nSamples?: number; stdevs?: number; abs?: boolean };
}

export interface DeepLiftOptions extends CommonAttributionOptions, ContextAttributionOptions {
  /** 'zeros' (default), 'gaussian', or [T·F] shared / [B·T·F] per input. */
  baselines?: Baselines;
}

export interface DeepLiftShapOptions extends CommonAttributionOptions, ContextAttributionOptions {
  /** A distribution of reference inputs [K·T·F] (required): each input is explained against every row. */
  baselines: Float32Array;
}

export interface PerturbationOptions extends CommonAttributionOptions {
  /** A group id per feature (length F: the feature at every step) or per cell (length T·F); default one per feature. */
  groups?: Int32Array | readonly number[];
}

export interface FeatureAblationOptions extends PerturbationOptions {
  /** The value replacing an ablated group: a number, or [T·F] / [B·T·F] values; default 0. */
  baselines?: number | Float32Array;
}

export interface FeaturePermutationOptions extends PerturbationOptions {
  /** [G·B] explicit permutations of the batch, one per group. */
  permutations?: Int32Array;
}

export interface Attribution {
  method: AttributionMethod;
  target: AttributionTarget;
  /** The step explained (resolved: never -1). */
  step: number;
  batch: number;
  steps: number;
  features: number;
  /** [B, T, F] row-major. */
  attributions: Float32Array;
  /** [B] the explained output at each input. */
  outputs: Float32Array;
  /**
   * [B] Σ attributions − (F(x) − F(baseline)): Integrated Gradients' convergence delta (quadrature error);
   * for DeepLift / DeepLiftShap (baseline: the mean over the distribution) float32 rounding only.
   */
  delta?: Float64Array;
  /** [B, nContext, contextLen, F] with contextAttributions. */
  contextAttributions?: Float32Array;
  /** [F] mean |attribution| over inputs and steps: the ranking the feature selector and stability hooks read. */
  featureImportance: Float64Array;
  /** [T] mean over inputs of Σ_f |attribution|: where in the window the decision comes from. */
  stepImportance: Float64Array;
}
