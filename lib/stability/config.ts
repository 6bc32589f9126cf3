/**
 * Stability-tracking configuration: the YAML keys of the Python stability tool's safety_config.yaml (its
 * files load as they are), validated, with defaults; programmatic options override the file. Only
 * `safety.feature_importance` is read; other sections of the document are ignored, and unknown keys beside
 * the known ones in that section are reported as warnings (real configs carry other settings there), while
 * `stability_thresholds` stays strict: a misspelt threshold would otherwise silently fall back to its default.
 *
 *   safety:
 *     feature_importance:
 *       auto_analyze_stability: true     # analyse a group after each snapshot saved into it
 *       base_dir: artifacts/feature_importance
 *       top_k: 20
 *       sample_pairs: 5000               # opt-in: weighted tau and RBO from a seeded sample of pairs (default: all, exact)
 *       stability_thresholds:
 *         min_top_k_overlap: 0.7         # mean pairwise Jaccard of the top-k sets
 *         min_kendall_tau: 0.6           # mean pairwise Kendall tau-b
 *         min_weighted_tau: 0.6          # mean pairwise weighted tau (top-heavy)
 *         min_rbo: 0.6                   # mean pairwise rank-biased overlap
 *         min_nogueira_stability: 0.6    # Nogueira et al. estimator of top-k selection
 *         min_selection_frequency: 0.5   # a feature is "stable" when in the top-k of at least this share of runs
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { DEFAULT_TOP_K } from '../defaults.js';
import { InvalidArgumentError, SchemaError } from '../errors.js';
import { readYamlFile } from '../io/yaml-file.js';
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
  /** Opt-in sampling of weighted tau and RBO (AnalyzeOptions.samplePairs); null = every pair, exact. */
  samplePairs: number | null;
  thresholds: StabilityThresholds;
}

export const DEFAULT_STABILITY_CONFIG: StabilityConfig = {
  autoAnalyze: false,
  baseDir: DEFAULT_BASE_DIR,
  topK: DEFAULT_TOP_K,
  samplePairs: null,
  thresholds: DEFAULT_THRESHOLDS,
};

/** Receives configuration warnings (unknown keys); the default writes them to stderr. */
export type ConfigWarn = (message: string) => void;

export const warnToStderr: ConfigWarn = (m) => process.stderr.write(`[stability] WARNING ${m}\n`);

/** Environment variable naming the stability config file. */
export const STABILITY_CONFIG_ENV = 'TFT_STABILITY_CONFIG';

/**
 * Files looked up, relative to the working directory, when neither an option nor the environment names
 * one: tft-native's configs/ folder, then where the Python stability tool keeps its config.
 */
export const DEFAULT_STABILITY_CONFIG_PATHS = ['configs/safety_config.yaml', 'CONFIG/training_config/safety_config.yaml'] as const;

const KNOWN_SECTION_KEYS = ['auto_analyze_stability', 'base_dir', 'top_k', 'sample_pairs', 'stability_thresholds'];

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
            sample_pairs: z.number().int().min(1).nullable().optional(),
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
          .passthrough()
          .nullable()
          .optional(),
      })
      .passthrough()
      .nullable()
      .optional(),
  })
  .passthrough();

/**
 * The stability section of a config document (other sections are ignored), merged over the defaults.
 * Unknown keys of `safety.feature_importance` go to `warn`; wrong types and unknown thresholds are
 * SchemaErrors naming the key.
 */
export function stabilityConfigFrom(doc: unknown, where = 'config', warn: ConfigWarn = warnToStderr): StabilityConfig {
  const r = YamlSchema.safeParse(doc ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new SchemaError(`${where}: ${issue.path.join('.')}: ${issue.message}`, issue.path.join('.'));
  }
  const fi = r.data.safety?.feature_importance ?? {};
  for (const k of Object.keys(fi)) {
    if (!KNOWN_SECTION_KEYS.includes(k))
      warn(`${where}: safety.feature_importance.${k}: not a stability setting, ignored (known: ${KNOWN_SECTION_KEYS.join(', ')})`);
  }
  const t = fi.stability_thresholds ?? {};
  return {
    autoAnalyze: fi.auto_analyze_stability ?? DEFAULT_STABILITY_CONFIG.autoAnalyze,
    baseDir: fi.base_dir ?? DEFAULT_STABILITY_CONFIG.baseDir,
    topK: fi.top_k ?? DEFAULT_STABILITY_CONFIG.topK,
    samplePairs: fi.sample_pairs ?? null,
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

export function loadStabilityConfig(file: string, warn: ConfigWarn = warnToStderr): StabilityConfig {
  return stabilityConfigFrom(readYamlFile(file), file, warn);
}

export interface ConfigLookup {
  /** An explicit file (the hooks' `configPath`, the CLI's --config). */
  configPath?: string;
  /** Environment to read TFT_STABILITY_CONFIG from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Directory the default paths are relative to (default process.cwd()). */
  cwd?: string;
}

/**
 * Which config file applies, in this order: `configPath`, then $TFT_STABILITY_CONFIG, then the first of
 * DEFAULT_STABILITY_CONFIG_PATHS that exists; null when none does (built-in defaults). A file named by the
 * option or the environment must exist (IoError otherwise); the defaults are only used when present.
 */
export function resolveStabilityConfigPath(o: ConfigLookup = {}): { path: string; source: 'option' | 'env' | 'default' } | null {
  if (o.configPath !== undefined) return { path: o.configPath, source: 'option' };
  const fromEnv = (o.env ?? process.env)[STABILITY_CONFIG_ENV];
  if (fromEnv) return { path: fromEnv, source: 'env' };
  const cwd = o.cwd ?? process.cwd();
  for (const rel of DEFAULT_STABILITY_CONFIG_PATHS) {
    const p = path.resolve(cwd, rel);
    if (existsSync(p)) return { path: p, source: 'default' };
  }
  return null;
}

/** The config that applies (see resolveStabilityConfigPath), loaded and validated, or the built-in defaults. */
export function resolveStabilityConfig(o: ConfigLookup & { warn?: ConfigWarn } = {}): StabilityConfig {
  const found = resolveStabilityConfigPath(o);
  return found ? loadStabilityConfig(found.path, o.warn) : DEFAULT_STABILITY_CONFIG;
}

/** Programmatic options over a base config (the file's, or the defaults); a bad topK or samplePairs is an InvalidArgumentError. */
export function mergeStabilityConfig(
  base: StabilityConfig,
  over: Partial<Omit<StabilityConfig, 'thresholds'>> & { thresholds?: Partial<StabilityThresholds> } = {},
): StabilityConfig {
  for (const [key, v] of [
    ['topK', over.topK],
    ['samplePairs', over.samplePairs],
  ] as const) {
    if (v !== undefined && v !== null && !(Number.isInteger(v) && v >= 1))
      throw new InvalidArgumentError(`${key}: must be an integer ≥ 1, got ${v}`, key);
  }
  return {
    autoAnalyze: over.autoAnalyze ?? base.autoAnalyze,
    baseDir: over.baseDir ?? base.baseDir,
    topK: over.topK ?? base.topK,
    samplePairs: over.samplePairs !== undefined ? over.samplePairs : base.samplePairs,
    thresholds: { ...base.thresholds, ...over.thresholds },
  };
}
