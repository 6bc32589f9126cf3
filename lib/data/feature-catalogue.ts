/**
 * The declared feature catalogue: name, group, exact lookback and OHLCV need of every feature the
 * FeatureBuilder can compute. It is the single source of truth for lookbacks: leakage checks, warm-up
 * lengths and training windows read them from here, never from the code that computes the features.
 *
 * Lookback = the exact number of past bars a value reads: the value at t depends on bars t - lookback … t
 * and on nothing older, and it is NaN until those lookback + 1 bars exist. EWMAs are truncated to make
 * this true (see EWMA_TAIL_WEIGHT in rolling.ts: W ≈ 1.96 × span, weights renormalised).
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { FEATURE_DEFINITIONS, type FeatureDefinition, type FeatureSpec } from './feature-families.js';

export type { FeatureSpec } from './feature-families.js';

export interface CatalogueOptions {
  /** Include features that need open/high/low/volume (default true: the whole catalogue). */
  ohlcv?: boolean;
  /** Keep only these groups (families). Unknown names throw NotFoundError. */
  groups?: string[];
  /** Keep only these features, in catalogue order. Unknown names throw NotFoundError. */
  names?: string[];
}

/** Selects definitions; shared by featureCatalogue and FeatureBuilder so both apply the same rules. */
export function selectDefinitions(opts: CatalogueOptions = {}): FeatureDefinition[] {
  const ohlcv = opts.ohlcv ?? true;
  if (opts.groups) {
    const known = new Set(FEATURE_DEFINITIONS.map((d) => d.spec.group));
    for (const g of opts.groups) {
      if (!known.has(g)) throw new NotFoundError(`unknown feature group '${g}' (known: ${[...known].join(', ')})`, 'groups');
    }
  }
  if (opts.names) {
    const byName = new Map(FEATURE_DEFINITIONS.map((d) => [d.spec.name, d]));
    for (const n of opts.names) {
      const d = byName.get(n);
      if (!d) throw new NotFoundError(`unknown feature '${n}'`, 'names');
      if (d.spec.needsOhlcv && !ohlcv) throw new InvalidArgumentError(`feature '${n}' needs OHLCV data but ohlcv is false`, 'names');
    }
  }
  const groups = opts.groups ? new Set(opts.groups) : null;
  const names = opts.names ? new Set(opts.names) : null;
  const out = FEATURE_DEFINITIONS.filter(
    (d) => (ohlcv || !d.spec.needsOhlcv) && (!groups || groups.has(d.spec.group)) && (!names || names.has(d.spec.name)),
  );
  if (out.length === 0) throw new InvalidArgumentError('the feature selection is empty', 'groups');
  return out;
}

/** The catalogue (copies of the specs), optionally restricted to close-only features, groups or names. */
export function featureCatalogue(opts: CatalogueOptions = {}): FeatureSpec[] {
  return selectDefinitions(opts).map((d) => ({ ...d.spec }));
}

/** The distinct groups in catalogue order. */
export function featureGroups(opts: { ohlcv?: boolean } = {}): string[] {
  return [...new Set(featureCatalogue(opts).map((s) => s.group))];
}

/** The largest lookback of a set of features: the warm-up before every one of them is defined. */
export function maxLookback(specs: ReadonlyArray<{ lookback: number }>): number {
  let m = 0;
  for (const s of specs) if (s.lookback > m) m = s.lookback;
  return m;
}
