/**
 * FeatureSelectionConfig: the selector's thresholds (seed 004's defaults) and the budgets of its exploration
 * pass and validation checks; validated, YAML-readable as the `selection` section of a run config or as a
 * file of its own.
 */
import { z } from 'zod';

import { readYamlFile } from '../io/yaml-file.js';
import { parseWithSchema } from '../io/schema-parse.js';

const share = z.number().min(0).max(1);
const int = (min: number) => z.number().int().min(min);

export const FeatureSelectionConfigSchema = z
  .object({
    /** Tier 1: drop a feature with fewer finite values than this share of the fold's training rows. */
    minCoverage: share.default(0.3),
    /** Tier 1: of a pair with |r| above this, the lower-variance feature is dropped. */
    correlationThreshold: z.number().gt(0).max(1).default(0.95),
    correlationMethod: z.enum(['pearson', 'spearman']).default('pearson'),
    /** A pair needs this many common finite rows before its correlation can drop a feature. */
    correlationMinPeriods: int(2).default(60),
    /** Tier 2: a feature is selected in a fold when its VSN weight exceeds this (1/F is uniform)… */
    vsnWeightThreshold: z.number().min(0).default(0.005),
    /**
     * …and this multiple of the uniform share 1/F of the fold's F candidates. On ~200 features the seed's
     * absolute 0.005 governs; on small sets, where every weight exceeds 0.005, "more than its share" does.
     */
    vsnUniformMultiple: z.number().min(0).default(1),
    /** Tier 2: at most this many recommended features, by mean VSN weight. */
    finalMaxFeatures: int(1).default(80),
    /** Tier 2: stable = mean VSN weight > threshold and selected in at least this share of the folds. */
    stabilityMinFolds: share.default(0.5),
    /** The exploration pass's epochs (seed 004: 15 + 25), never more than the run's own. */
    exploration: z
      .object({ pretrainEpochs: int(0).default(15), finetuneEpochs: int(0).default(25) })
      .strict()
      .prefault({}),
    /** Validation: KSG mutual information of each candidate with the label on the fold's training rows. */
    mutualInfo: z
      .object({
        enabled: z.boolean().default(true),
        nNeighbors: int(1).max(64).default(3),
        /** Rows are subsampled evenly (seeded) above this many. */
        maxRows: int(10).default(100_000),
        seed: int(0).default(0),
      })
      .strict()
      .prefault({}),
    /** Validation: permutation importance of the top features (by VSN weight) on the fold's test days. */
    permutation: z
      .object({
        enabled: z.boolean().default(true),
        /** Features permuted per fold (0 = every candidate): each costs `repeats` rolling predictions. */
        maxFeatures: int(0).default(20),
        repeats: int(1).default(2),
        seed: int(0).default(0),
      })
      .strict()
      .prefault({}),
    /** A feature is flagged for review when two methods' percentile ranks differ by at least this. */
    disagreementGap: z.number().gt(0).max(1).default(0.5),
  })
  .strict();

export type FeatureSelectionConfig = z.infer<typeof FeatureSelectionConfigSchema>;

export function resolveFeatureSelectionConfig(input: unknown, source = 'selection'): FeatureSelectionConfig {
  return parseWithSchema(FeatureSelectionConfigSchema, input, source);
}

/** Reads a YAML (or JSON) file holding a FeatureSelectionConfig. */
export function loadFeatureSelectionConfig(path: string): FeatureSelectionConfig {
  return resolveFeatureSelectionConfig(readYamlFile(path, 'the selection config'), path);
}
