/**
 * The input spec of a checkpoint (metadata.inputSpec): what serving needs to rebuild the model's inputs as
 * training did. Checkpoints written before it existed get the training defaults, listed in `assumed`, so a
 * caller can say what it took on trust.
 */
import type { CheckpointMetadata } from '../checkpoint/metadata.js';
import { featureCatalogue } from '../data/feature-catalogue.js';
import { DEFAULT_CONTEXT_POOL_DAYS, DEFAULT_SIGMA_TARGET, DEFAULT_VOL_SPAN } from '../defaults.js';
import { InvalidArgumentError } from '../errors.js';

export type InputSpec = NonNullable<CheckpointMetadata['inputSpec']>;

export interface ResolvedInputSpec {
  spec: InputSpec;
  /** What an older checkpoint did not record and was assumed (empty for current checkpoints). */
  assumed: string[];
}

export function resolveInputSpec(m: CheckpointMetadata): ResolvedInputSpec {
  if (m.normalization === null)
    throw new InvalidArgumentError('checkpoint: it stores no normalisation statistics, so its inputs cannot be rebuilt', 'checkpoint');
  const r = resolveFeatureSpec(m);
  if (m.config.nContext === 0 || r.spec.context) return r;
  // An X-Trend checkpoint that does not say how serving draws its context sets: the training defaults.
  const context = { len: m.trainingInfo?.context?.len ?? m.config.seqLen, poolDays: DEFAULT_CONTEXT_POOL_DAYS, seed: 0 };
  return {
    spec: { ...r.spec, context },
    assumed: [...r.assumed, `context sets of ${context.len}-day sequences from the ${context.poolDays} days before each window, seed 0`],
  };
}

function resolveFeatureSpec(m: CheckpointMetadata): ResolvedInputSpec {
  if (m.inputSpec) return { spec: m.inputSpec, assumed: [] };
  const catalogue = new Map(featureCatalogue().map((s) => [s.name, s] as const));
  const unknown = m.featureNames.filter((n) => !catalogue.has(n));
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `checkpoint: it records no input spec and these features are not in the catalogue: ${unknown.slice(0, 5).join(', ')}`,
      'checkpoint',
    );
  return {
    spec: {
      features: m.featureNames.map((name) => ({ name, group: catalogue.get(name)!.group, lookback: catalogue.get(name)!.lookback })),
      ohlcv: m.featureNames.some((n) => catalogue.get(n)!.needsOhlcv),
      clip: 5,
      window: m.config.seqLen,
      targets: { volSpan: DEFAULT_VOL_SPAN, sigmaTarget: DEFAULT_SIGMA_TARGET, horizon: 1 },
      maxFillDays: 5,
      positionSizing: { maxPosition: m.config.maxPosition, volTarget: null, smoothing: 0 },
    },
    assumed: [
      'clip 5 (features.clip)',
      `targets volSpan ${DEFAULT_VOL_SPAN}, sigmaTarget ${DEFAULT_SIGMA_TARGET}`,
      'maxFillDays 5',
      'no volatility scaling or smoothing of positions',
    ],
  };
}

/**
 * Trading days of history before a date that the features and the window read, and for X-Trend models the
 * context sequences, which end in the pool before the window and need their own features' lookback.
 */
export function requiredLookback(spec: InputSpec): number {
  const context = spec.context ? spec.context.poolDays + spec.context.len - 1 : 0;
  return Math.max(0, ...spec.features.map((f) => f.lookback)) + spec.window - 1 + context;
}
