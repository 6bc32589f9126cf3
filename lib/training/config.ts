/**
 * TrainingConfig: every data, feature, model, training, fold and output option of a walk-forward run,
 * validated with defaults; readable from YAML (`tft-native train --config run.yaml`).
 *
 * The defaults are sized for a first run on the bundled Dow 30 sample in a few minutes on two cores, and
 * follow `npm run bench:model-quality` (README, "Training against simple rules"): 64 features, dHidden 32,
 * 3 folds, 20 + 20 epochs (patience 5) of non-overlapping windows (windowStride 0: each label enters the loss
 * once per epoch), at most 2,048 windows an epoch. configs/production.yaml holds the production settings.
 */

import { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';
import { parseWithSchema } from '../io/schema-parse.js';
import { readYamlFile } from '../io/yaml-file.js';
import { EXPLAIN_METHODS, METHOD_ALIASES } from '../attribution/run-method.js';
import { TFTConfigFields, headsDivideHidden } from '../model/config.js';
import { DEFAULT_SIGMA_TARGET, DEFAULT_VOL_SPAN } from '../defaults.js';
import { FeatureSelectionConfigSchema } from '../selection/config.js';
import { TuningConfigSchema } from '../tuning/tuning-config.js';

const int = (min: number) => z.number().int().min(min);

export const DEFAULT_FEATURE_GROUPS = ['vol_norm_returns', 'ewma_vol', 'vol_ratio', 'rsi', 'trend'];

const isExplainMethod = (m: string) => (EXPLAIN_METHODS as readonly string[]).includes(m) || m.toLowerCase() in METHOD_ALIASES;

export const TrainingConfigSchema = z
  .object({
    data: z
      .object({
        /** CSV or Parquet price file(s); the bundled Dow 30 sample when absent. */
        path: z.union([z.string(), z.array(z.string())]).optional(),
        symbols: z.array(z.string()).optional(),
        start: z.string().optional(),
        end: z.string().optional(),
        maxFillDays: int(0).default(5),
      })
      .strict()
      .prefault({}),
    features: z
      .object({
        groups: z.array(z.string()).optional(),
        names: z.array(z.string()).optional(),
        /**
         * Train on a saved selection: a feature_selector.json, or a checkpoint folder holding one. Each fold
         * trains on the selection of the latest selector fold whose training ended no later than its own.
         */
        from: z.string().optional(),
        ohlcv: z.union([z.boolean(), z.literal('auto')]).default('auto'),
        /** Normalised features are clipped to ±clip standard deviations. */
        clip: z.number().positive().default(5),
      })
      .strict()
      .prefault({}),
    targets: z
      .object({
        volSpan: int(1).default(DEFAULT_VOL_SPAN),
        sigmaTarget: z.number().positive().default(DEFAULT_SIGMA_TARGET),
      })
      .strict()
      .prefault({}),
    model: TFTConfigFields.pick({ nHeads: true, lstmLayers: true, dropout: true, maxPosition: true, seed: true })
      .extend({
        // The model's own bounds, with training defaults; nFeatures, nEntities and nContext follow from the data.
        dHidden: TFTConfigFields.shape.dHidden.unwrap().default(32),
        /** Two steps at least: the loss skips warm-up steps and needs a position change to cost. */
        seqLen: TFTConfigFields.shape.seqLen.unwrap().min(2).default(63),
        /** One embedding per asset (X-Trend); nEntities = number of symbols. */
        useEntities: z.boolean().default(true),
        /**
         * X-Trend context set: sequences per target window (0 = a plain TFT). In training each window gets
         * nContext sequences from any asset ending before it starts, drawn afresh every epoch.
         */
        nContext: TFTConfigFields.shape.nContext.unwrap().default(0),
        /** Days per context sequence (0 = seqLen). */
        contextLen: int(0).default(0),
        /**
         * Out of sample, a new context set every this many days, its sequences ending before the first
         * window of the block starts: the model never sees a context later than what it predicts.
         */
        contextRefreshDays: int(1).default(21),
        /** Where the model trains and predicts; 'cuda' needs a CUDA libtorch and a GPU (CudaUnavailableError otherwise). */
        device: z.enum(['cpu', 'cuda']).default('cpu'),
      })
      .strict()
      .refine(headsDivideHidden.check, { message: headsDivideHidden.message, path: [...headsDivideHidden.path] })
      .prefault({}),
    training: z
      .object({
        learningRate: z.number().positive().default(1e-3),
        weightDecay: z.number().min(0).default(0),
        clipNorm: z.number().default(1),
        batchSize: int(2).default(64),
        lossMode: z.enum(['sharpe', 'joint_mle']).default('sharpe'),
        mleWeight: z.number().min(0).default(0.1),
        warmupSteps: int(0).default(10),
        costBps: z.number().min(0).default(0),
        pretrainEpochs: int(0).default(20),
        finetuneEpochs: int(0).default(20),
        /** Learning rate of the finetune phase, relative to learningRate. */
        finetuneLrScale: z.number().positive().default(0.1),
        /** Epochs without a better validation loss before a phase stops. */
        patience: int(1).default(5),
        /**
         * Stochastic Weight Averaging over the finetune phase: the fold's model is the mean of the weights
         * after each finetune epoch (which then runs all its epochs), not the epoch with the best validation loss.
         */
        averageWeights: z.boolean().default(false),
        /**
         * Position smoothing p_t = s·p_{t−1} + (1 − s)·z_t (the seed's position_smooth) applied to the
         * out-of-sample positions and recorded in the checkpoint, so serving smooths the same way.
         */
        positionSmooth: z.number().min(0).max(0.99).default(0),
        /** Windows sampled per epoch (0 = all of the fold's training windows). */
        maxWindowsPerEpoch: int(0).default(2048),
        /**
         * Each epoch trains on the windows whose last day falls on a fresh random offset modulo this stride
         * (1 = every window; 0 = seqLen − warmupSteps, so the loss steps of one asset's windows tile its
         * days and each label counts once per epoch), before maxWindowsPerEpoch samples from them.
         */
        windowStride: int(0).default(0),
        seed: int(0).default(0),
      })
      .strict()
      .prefault({}),
    /**
     * Attribution analysis while training (off by default): every `everyEpochs` epochs an
     * AttributionAnalyzer on a fixed, seeded buffer of `samples` validation windows of the fold. Results go
     * into the fold's result, the checkpoint's metadata and (with output.stabilityDir) one stability
     * snapshot per method; analyses stop once a fold has spent `budgetSeconds` on them.
     */
    attribution: z
      .object({
        everyEpochs: int(0).default(0),
        methods: z
          .array(z.string())
          .min(1)
          .refine((ms) => ms.every(isExplainMethod), {
            message: `methods must be among ${[...EXPLAIN_METHODS, ...Object.keys(METHOD_ALIASES)].join(', ')}`,
          })
          .default(['integratedGradients', 'gradientShap', 'deepLift', 'saliency']),
        samples: int(1).default(32),
        /** Integrated Gradients steps. */
        steps: int(1).default(16),
        gradientShapSamples: int(1).default(8),
        budgetSeconds: z.number().positive().default(120),
        /** Windows of history before dead features are judged. */
        deadFeatureWindows: int(1).default(200),
      })
      .strict()
      .prefault({}),
    folds: z
      .object({
        scheme: z.enum(['expanding', 'sliding']).default('expanding'),
        count: int(1).default(3),
        testDays: int(1).default(252),
        validationDays: int(1).default(126),
        trainDays: int(1).optional(),
      })
      .strict()
      .prefault({}),
    /** The feature selector (`tft-native select`): Tier 1 and 2 thresholds, exploration and validation budgets. */
    selection: FeatureSelectionConfigSchema.prefault({}),
    /** The hyperparameter tuner (`tft-native tune`): budget, sampler, pruner and search space. */
    tuning: TuningConfigSchema.prefault({}),
    output: z
      .object({
        checkpointRoot: z.string().default('checkpoints'),
        modelType: z.string().default('tft'),
        /** Write one stability snapshot (method tft_vsn) per fold into this store; off when absent. */
        stabilityDir: z.string().optional(),
        /** Skip writing a checkpoint (evaluation runs). */
        saveCheckpoint: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => !c.attribution.methods.some((m) => m.toLowerCase() === 'deepliftshap'), {
    message: 'deepLiftShap needs a baseline distribution: use deepLift during training',
    path: ['attribution', 'methods'],
  });

export type TrainingConfig = z.output<typeof TrainingConfigSchema>;
export type TrainingConfigInput = z.input<typeof TrainingConfigSchema>;

/** Validates and fills defaults; the first violation raises SchemaError naming its path. */
export function resolveTrainingConfig(input: unknown, source = 'config'): TrainingConfig {
  return parseWithSchema(TrainingConfigSchema, input, source);
}

/** Reads a YAML (or JSON) training config file. */
export function loadTrainingConfig(path: string): TrainingConfig {
  return resolveTrainingConfig(readYamlFile(path, 'the config'), path);
}

/** Deep-merges overrides (e.g. from CLI flags) into a config and validates the result. */
export function withOverrides(config: TrainingConfig, overrides: Record<string, unknown>): TrainingConfig {
  const merge = (a: unknown, b: unknown): unknown => {
    if (b === undefined) return a;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = merge(out[k], v);
      return out;
    }
    return b;
  };
  if (typeof overrides !== 'object' || overrides === null) throw new InvalidArgumentError('overrides: must be an object', 'overrides');
  return resolveTrainingConfig(merge(config, overrides), 'overrides');
}
