/**
 * Per-feature standardisation fitted on a training range only and applied unchanged everywhere else:
 * statistics taken over validation or test days would leak their distribution into training. The fitted
 * means and stds are plain numbers keyed by feature name, so a checkpoint stores them (toJSON/fromJSON)
 * and serving applies exactly what training saw.
 */
import { z } from 'zod';

import { InvalidArgumentError, OutOfRangeError, SchemaError, ShapeError } from '../errors.js';
import type { FeaturePanel } from './feature-builder.js';

export interface Normalization {
  names: string[];
  means: Float64Array;
  stds: Float64Array;
  /** Finite values each statistic was fitted on (0: the feature had none; mean 0, std 1 are then used). */
  counts: Float64Array;
  /** The fitted day range [startDay, endDay) and its dates, for the record. */
  startDay: number;
  endDay: number;
  startDate: string;
  endDate: string;
}

export interface FitOptions {
  /** First day (index into features.dates) of the training range, inclusive. */
  startDay: number;
  /** Last day, exclusive. */
  endDay: number;
  /**
   * Floor on std (default 1e-8): a feature constant over the training range would otherwise divide by ~0
   * and turn rounding noise into huge z-scores.
   */
  minStd?: number;
}

export interface ApplyOptions {
  /** Overwrite features.values instead of returning a normalised copy (default false). */
  inPlace?: boolean;
  /** Clip z-scores to [-clip, clip] (default: no clipping). NaN stays NaN. */
  clip?: number;
}

export interface NormalizationJSON {
  names: string[];
  means: number[];
  stds: number[];
  counts: number[];
  startDay: number;
  endDay: number;
  startDate: string;
  endDate: string;
}

export function fitNormalization(features: FeaturePanel, opts: FitOptions): Normalization {
  const D = features.dates.length;
  const F = features.names.length;
  const S = features.symbols.length;
  const { startDay, endDay } = opts;
  const minStd = opts.minStd ?? 1e-8;
  if (!Number.isInteger(startDay) || !Number.isInteger(endDay) || startDay < 0 || endDay > D || startDay >= endDay) {
    throw new OutOfRangeError(`training range [${startDay}, ${endDay}) is not a non-empty range inside [0, ${D})`, 'startDay');
  }
  if (!(minStd >= 0)) throw new InvalidArgumentError(`minStd must be ≥ 0, got ${minStd}`, 'minStd');
  if (features.values.length !== S * D * F) throw new ShapeError(`features.values has ${features.values.length} values, expected ${S}·${D}·${F}`, 'values');
  const sum = new Float64Array(F);
  const count = new Float64Array(F);
  const v = features.values;
  const eachTrainingRow = (visit: (row: number) => void): void => {
    for (let s = 0; s < S; s++) for (let t = startDay; t < endDay; t++) visit((s * D + t) * F);
  };
  eachTrainingRow((row) => {
    for (let f = 0; f < F; f++) {
      const x = v[row + f]!;
      if (Number.isFinite(x)) {
        sum[f] = sum[f]! + x;
        count[f] = count[f]! + 1;
      }
    }
  });
  const means = new Float64Array(F);
  for (let f = 0; f < F; f++) means[f] = count[f]! > 0 ? sum[f]! / count[f]! : 0;
  // Second pass around the mean: a one-pass E[x²] - E[x]² loses the variance of features with large means.
  const ss = new Float64Array(F);
  eachTrainingRow((row) => {
    for (let f = 0; f < F; f++) {
      const x = v[row + f]!;
      if (Number.isFinite(x)) {
        const d = x - means[f]!;
        ss[f] = ss[f]! + d * d;
      }
    }
  });
  const stds = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    const c = count[f]!;
    stds[f] = c > 1 ? Math.max(minStd, Math.sqrt(ss[f]! / (c - 1))) : 1;
  }
  return {
    names: features.names.slice(),
    means,
    stds,
    counts: count,
    startDay,
    endDay,
    startDate: features.dates[startDay]!,
    endDate: features.dates[endDay - 1]!,
  };
}

function checkNames(features: FeaturePanel, norm: Normalization): void {
  if (features.names.length !== norm.names.length) {
    throw new ShapeError(`the normalisation has ${norm.names.length} features, the panel ${features.names.length}`, 'names');
  }
  for (let f = 0; f < norm.names.length; f++) {
    if (features.names[f] !== norm.names[f]) {
      throw new InvalidArgumentError(`feature ${f} is '${features.names[f]}' in the panel but '${norm.names[f]}' in the normalisation`, 'names');
    }
  }
}

/** (x - mean) / std per feature with the fitted statistics; NaN stays NaN. */
export function applyNormalization(features: FeaturePanel, norm: Normalization, opts: ApplyOptions = {}): FeaturePanel {
  checkNames(features, norm);
  const clip = opts.clip;
  if (clip !== undefined && !(clip > 0)) throw new InvalidArgumentError(`clip must be positive, got ${clip}`, 'clip');
  const F = norm.names.length;
  const src = features.values;
  const dst = opts.inPlace ? src : new Float32Array(src.length);
  const inv = new Float64Array(F);
  for (let f = 0; f < F; f++) inv[f] = 1 / norm.stds[f]!;
  const lim = clip ?? Number.POSITIVE_INFINITY;
  for (let i = 0, f = 0; i < src.length; i++) {
    const z = (src[i]! - norm.means[f]!) * inv[f]!;
    dst[i] = z > lim ? lim : z < -lim ? -lim : z;
    if (++f === F) f = 0;
  }
  return opts.inPlace ? features : { ...features, values: dst };
}

export function normalizationToJSON(norm: Normalization): NormalizationJSON {
  return {
    names: norm.names.slice(),
    means: Array.from(norm.means),
    stds: Array.from(norm.stds),
    counts: Array.from(norm.counts),
    startDay: norm.startDay,
    endDay: norm.endDay,
    startDate: norm.startDate,
    endDate: norm.endDate,
  };
}

const NormalizationSchema = z
  .object({
    names: z.array(z.string()),
    means: z.array(z.number()),
    stds: z.array(z.number().positive()),
    counts: z.array(z.number().nonnegative()),
    startDay: z.number().int().nonnegative(),
    endDay: z.number().int().nonnegative(),
    startDate: z.string(),
    endDate: z.string(),
  })
  .refine((j) => j.means.length === j.names.length && j.stds.length === j.names.length && j.counts.length === j.names.length, {
    message: 'names, means, stds and counts must have the same length',
  });

/** Reads what normalizationToJSON wrote (e.g. from a checkpoint); SchemaError when it does not fit. */
export function normalizationFromJSON(json: unknown): Normalization {
  const r = NormalizationSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new SchemaError(`normalisation: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'normalization');
  }
  const j = r.data;
  return {
    names: j.names,
    means: Float64Array.from(j.means),
    stds: Float64Array.from(j.stds),
    counts: Float64Array.from(j.counts),
    startDay: j.startDay,
    endDay: j.endDay,
    startDate: j.startDate,
    endDate: j.endDate,
  };
}
