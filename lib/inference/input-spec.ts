/**
 * The input spec of a checkpoint (metadata.inputSpec): what serving needs to rebuild the model's inputs as
 * training did. Checkpoints written before it existed get the training defaults, listed in `assumed`, so a
 * caller can say what it took on trust.
 */
import type { CheckpointMetadata } from '../checkpoint/metadata.js';
import { featureCatalogue } from '../data/feature-catalogue.js';
import { DEFAULT_SIGMA_TARGET, DEFAULT_VOL_SPAN } from '../defaults.js';
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
  if (m.config.nContext > 0)
    throw new InvalidArgumentError(
      'checkpoint: serving X-Trend models (with a context set) is not supported by this pipeline',
      'checkpoint',
    );
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

/** Trading days of history before a date that the features and the window read. */
export function requiredLookback(spec: InputSpec): number {
  return Math.max(0, ...spec.features.map((f) => f.lookback)) + spec.window - 1;
}
