/**
 * TuningConfig: the HPTuner's budget, sampler, pruner and search space (seed 004, section 3), validated
 * with defaults; the `tuning` section of a run config (`tft-native tune --config run.yaml`).
 *
 * Each search-space entry names the TrainingConfig field it sets (`path`, e.g. model.dHidden) and its
 * distribution: `choices` (categorical), or `low`/`high` with `type: int | float`, `log` and `step`.
 */
import { z } from 'zod';

import { parseWithSchema } from '../io/schema-parse.js';

const choice = z.union([z.string(), z.number(), z.boolean()]);

export const SearchParamSchema = z.union([
  z.object({ path: z.string(), choices: z.array(choice).min(1) }).strict(),
  z
    .object({
      path: z.string(),
      type: z.enum(['float', 'int']).default('float'),
      low: z.number(),
      high: z.number(),
      log: z.boolean().default(false),
      step: z.number().positive().optional(),
    })
    .strict()
    .refine((p) => p.low <= p.high, { message: 'low must not exceed high' })
    .refine((p) => !(p.log && p.step !== undefined), { message: 'log and step cannot be used together' })
    .refine((p) => !p.log || p.low > 0, { message: 'a log range needs low > 0' }),
]);
export type SearchParam = z.output<typeof SearchParamSchema>;

/** The seed's search space, names as in the seed; d_hidden % n_heads is repaired, never sampled around. */
export const DEFAULT_SEARCH_SPACE: Record<string, z.input<typeof SearchParamSchema>> = {
  d_hidden: { path: 'model.dHidden', choices: [32, 48, 64, 96, 128] },
  n_heads: { path: 'model.nHeads', choices: [2, 4, 8] },
  lstm_layers: { path: 'model.lstmLayers', type: 'int', low: 1, high: 3 },
  dropout: { path: 'model.dropout', low: 0.05, high: 0.3 },
  seq_len: { path: 'model.seqLen', choices: [21, 42, 63] },
  n_context: { path: 'model.nContext', choices: [8, 16, 32] },
  lr: { path: 'training.learningRate', low: 3e-4, high: 3e-3, log: true },
  batch_size: { path: 'training.batchSize', choices: [16, 32, 64] },
  mle_weight: { path: 'training.mleWeight', low: 0.01, high: 0.2 },
  loss_mode: { path: 'training.lossMode', choices: ['sharpe', 'joint_mle'] },
  max_position: { path: 'model.maxPosition', low: 0.15, high: 0.3 },
  position_smooth: { path: 'training.positionSmooth', low: 0.2, high: 0.5 },
};

const int = (min: number) => z.number().int().min(min);

export const TuningConfigSchema = z
  .object({
    studyName: z.string().min(1).default('tft-tuning'),
    /** 'journal:<path>', a .log path, or 'postgresql://…'; default: <checkpointRoot>/studies/<studyName>.log. */
    storage: z.string().optional(),
    nTrials: int(1).default(40),
    timeoutSeconds: z.number().positive().default(14400),
    seed: int(0).default(42),
    /** Walk-forward folds per trial (the pruner's steps): the most recent ones. */
    nFoldsPerTrial: int(1).default(3),
    /** The abbreviated budget of a trial's training. */
    pretrainEpochs: int(0).default(15),
    finetuneEpochs: int(0).default(25),
    sampler: z
      .object({
        type: z.enum(['tpe', 'random']).default('tpe'),
        nStartupTrials: int(0).default(10),
        nEiCandidates: int(1).default(24),
        multivariate: z.boolean().default(true),
        constantLiar: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    pruner: z
      .object({
        type: z.enum(['median', 'none']).default('median'),
        nStartupTrials: int(0).default(5),
        nWarmupSteps: int(0).default(0),
        intervalSteps: int(1).default(1),
      })
      .strict()
      .prefault({}),
    searchSpace: z
      .record(z.string(), SearchParamSchema)
      .default(() => structuredClone(DEFAULT_SEARCH_SPACE) as Record<string, SearchParam>),
  })
  .strict();

export type TuningConfig = z.output<typeof TuningConfigSchema>;
export type TuningConfigInput = z.input<typeof TuningConfigSchema>;

export function resolveTuningConfig(input: unknown, source = 'tuning'): TuningConfig {
  return parseWithSchema(TuningConfigSchema, input ?? {}, source);
}
