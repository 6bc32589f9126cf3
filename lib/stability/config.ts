/**
 * Stability-tracking configuration: the seed's YAML keys, validated, with defaults; programmatic options
 * override the file.
 *
 *   safety:
 *     feature_importance:
 *       auto_analyze_stability: true     # analyse a group after each snapshot saved into it
 *       base_dir: artifacts/feature_importance
 *       top_k: 20
 *       stability_thresholds:
 *         min_top_k_overlap: 0.7         # mean pairwise Jaccard of the top-k sets
 *         min_kendall_tau: 0.6           # mean pairwise Kendall tau-b
 *         min_weighted_tau: 0.6          # mean pairwise weighted tau (top-heavy)
 *         min_rbo: 0.6                   # mean pairwise rank-biased overlap
 *         min_nogueira_stability: 0.6    # Nogueira et al. estimator of top-k selection
 *         min_selection_frequency: 0.5   # a feature is "stable" when in the top-k of at least this share of runs
 */
import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { IoError, SchemaError } from '../errors.js';
import { DEFAULT_BASE_DIR } from './snapshot-store.js';

export interface StabilityThresholds {
  minTopKOverlap: number;
  minKendallTau: number;
  minWeightedTau: number;
  minRbo: number;
  minNogueira: number;
  minSelectionFrequency: number;
}

export const DEFAULT_THRESHOLDS: StabilityThresholds = {
  minTopKOverlap: 0.7,
  minKendallTau: 0.6,
  minWeightedTau: 0.6,
  minRbo: 0.6,
  minNogueira: 0.6,
  minSelectionFrequency: 0.5,
};

export interface StabilityConfig {
  autoAnalyze: boolean;
  baseDir: string;
  topK: number;
  thresholds: StabilityThresholds;
}

export const DEFAULT_STABILITY_CONFIG: StabilityConfig = { autoAnalyze: false, baseDir: DEFAULT_BASE_DIR, topK: 20, thresholds: DEFAULT_THRESHOLDS };

const unit = z.number().min(-1).max(1);
const YamlSchema = z
  .object({
    safety: z
      .object({
        feature_importance: z
          .object({
            auto_analyze_stability: z.boolean().optional(),
            base_dir: z.string().min(1).optional(),
            top_k: z.number().int().min(1).optional(),
            stability_thresholds: z
              .object({
                min_top_k_overlap: unit.optional(),
                min_kendall_tau: unit.optional(),
                min_weighted_tau: unit.optional(),
                min_rbo: unit.optional(),
                min_nogueira_stability: unit.optional(),
                min_selection_frequency: z.number().min(0).max(1).optional(),
              })
              .strict()
              .optional(),
          })
          .strict()
          .optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

/** The stability section of a config document (other sections are ignored), merged over the defaults. */
export function stabilityConfigFrom(doc: unknown, where = 'config'): StabilityConfig {
  const r = YamlSchema.safeParse(doc ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new SchemaError(`${where}: ${issue.path.join('.')}: ${issue.message}`, issue.path.join('.'));
  }
  const fi = r.data.safety?.feature_importance ?? {};
  const t = fi.stability_thresholds ?? {};
  return {
    autoAnalyze: fi.auto_analyze_stability ?? DEFAULT_STABILITY_CONFIG.autoAnalyze,
    baseDir: fi.base_dir ?? DEFAULT_STABILITY_CONFIG.baseDir,
    topK: fi.top_k ?? DEFAULT_STABILITY_CONFIG.topK,
    thresholds: {
      minTopKOverlap: t.min_top_k_overlap ?? DEFAULT_THRESHOLDS.minTopKOverlap,
      minKendallTau: t.min_kendall_tau ?? DEFAULT_THRESHOLDS.minKendallTau,
      minWeightedTau: t.min_weighted_tau ?? DEFAULT_THRESHOLDS.minWeightedTau,
      minRbo: t.min_rbo ?? DEFAULT_THRESHOLDS.minRbo,
      minNogueira: t.min_nogueira_stability ?? DEFAULT_THRESHOLDS.minNogueira,
      minSelectionFrequency: t.min_selection_frequency ?? DEFAULT_THRESHOLDS.minSelectionFrequency,
    },
  };
}

export function loadStabilityConfig(path: string): StabilityConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new IoError(`${path}: cannot read (${(e as Error).message})`, path, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SchemaError(`${path}: not valid YAML: ${(e as Error).message}`, path);
  }
  return stabilityConfigFrom(doc, path);
}

/** Programmatic options over a base config (the file's, or the defaults). */
export function mergeStabilityConfig(base: StabilityConfig, over: Partial<Omit<StabilityConfig, 'thresholds'>> & { thresholds?: Partial<StabilityThresholds> } = {}): StabilityConfig {
  return {
    autoAnalyze: over.autoAnalyze ?? base.autoAnalyze,
    baseDir: over.baseDir ?? base.baseDir,
    topK: over.topK ?? base.topK,
    thresholds: { ...base.thresholds, ...over.thresholds },
  };
}
