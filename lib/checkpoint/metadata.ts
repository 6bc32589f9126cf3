/**
 * CheckpointMetadata: everything needed to rebuild, verify and understand a checkpoint, schema-validated on
 * write and on read (schemaVersion 2). The manager fills version, createdAt, gitCommit, gitDirty, the model's
 * config and the sha256 of every file; callers give the rest (CheckpointMetadataInput).
 *
 * The metadata itself is covered by a digest (`metadataDigest`): the sha256 of its canonical JSON without the
 * weights' own `files` entry, stored in the safetensors header of model.safetensors, whose sha256 is in `files`.
 */
import { createHash } from 'node:crypto';

import { z } from 'zod';

import { SchemaError, TftError } from '../errors.js';
import { assertSafeName } from '../io/safe-path.js';
import { TFTConfigSchema } from '../model/config.js';

export const METADATA_SCHEMA_VERSION = 2;

const finite = z.number().refine(Number.isFinite, 'must be finite');
const nullableFinite = z.number().nullable();

const uniqueStrings = z.array(z.string()).refine((a) => new Set(a).size === a.length, 'must not contain duplicates');

/** A model type becomes a folder name: the same rule as the manager's path check, so a loaded one is safe. */
const safeName = z.string().superRefine((s, ctx) => {
  try {
    assertSafeName(s, 'modelType');
  } catch (e) {
    if (!(e instanceof TftError)) throw e;
    ctx.addIssue({ code: 'custom', message: e.message.replace(/^modelType: /, '') });
  }
});

export const FileEntrySchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) }).strict();

export const NormalizationSchema = z
  .object({
    names: z.array(z.string()),
    means: z.array(finite),
    stds: z.array(finite.refine((v) => v > 0, 'must be > 0')),
    counts: z.array(z.number().int().min(0)).optional(),
    startDay: z.number().int().optional(),
    endDay: z.number().int().optional(),
    startDate: z.string().optional(),
    endDate: z.string().optional(),
  })
  .strict()
  .refine((n) => n.means.length === n.names.length && n.stds.length === n.names.length, 'names, means and stds must have the same length');

export const DateRangeSchema = z.object({ start: z.string(), end: z.string() }).strict();

export const FoldInfoSchema = z
  .object({
    index: z.number().int().min(0),
    train: DateRangeSchema,
    validation: DateRangeSchema.optional(),
    test: DateRangeSchema,
    epochs: z.number().int().min(0).optional(),
    bestValidationLoss: nullableFinite.optional(),
    sharpe: nullableFinite,
    totalReturn: nullableFinite,
    maxDrawdown: nullableFinite,
    turnover: nullableFinite.optional(),
    /** Annualised standard error of the validation Sharpe that chose the epoch (lib/training/validation-noise). */
    validationSharpeSE: nullableFinite.optional(),
  })
  .strict();

/** A simple rule's OOS Sharpe on the run's test days: per fold and over all of them. */
export const BaselineInfoSchema = z.object({ name: z.string().min(1), sharpe: nullableFinite, folds: z.array(nullableFinite) }).strict();

export const OosMetricsSchema = z.object({ sharpe: nullableFinite, totalReturn: nullableFinite, maxDrawdown: nullableFinite }).strict();

export const FeatureSelectionSchema = z
  .object({
    /** The features the model uses (a subset of featureNames, in the model's order). */
    selected: uniqueStrings,
    /** Per feature (any candidate, not only the selected ones): its stability score. */
    stabilityScores: z.record(z.string(), finite),
    /** How the scores were made, e.g. 'tft_vsn' (mean VSN importance over walk-forward folds). */
    method: z.string().min(1).optional(),
    /** The number of folds the scores average over. */
    folds: z.number().int().min(1).optional(),
    /** Mean Kendall tau between the folds' feature rankings; null with fewer than two folds. */
    rankStability: z.number().min(-1).max(1).nullable().optional(),
  })
  .strict();

export const HpTuningSchema = z.object({ bestParams: z.record(z.string(), z.unknown()), bestValue: nullableFinite.optional() }).strict();

/** One layer's gradient over a training epoch (the trainer's measure: lib/training/trainer). */
export const LayerGradientSchema = z
  .object({ layer: z.string(), norm: finite, meanAbs: finite, maxNorm: finite, vanishing: z.boolean(), exploding: z.boolean() })
  .strict();

/** The per-layer gradient flow of the epoch whose weights the checkpoint holds (the last fold's best epoch). */
export const GradientFlowInfoSchema = z
  .object({
    fold: z.number().int().min(0),
    phase: z.enum(['pretrain', 'finetune']),
    epoch: z.number().int().min(0),
    layers: z.array(LayerGradientSchema),
  })
  .strict();

export const TrainingInfoSchema = z
  .object({
    folds: z.array(FoldInfoSchema),
    epochs: z
      .object({ pretrain: z.number().int().min(0), finetune: z.number().int().min(0) })
      .strict()
      .optional(),
    lossMode: z.string().optional(),
    seconds: z.number().min(0).optional(),
    /** Long-only, TSMOM and MACD on the same OOS days as the model. */
    baselines: z.array(BaselineInfoSchema).optional(),
    /** X-Trend models: days per context sequence, and how often out-of-sample prediction drew a new set. */
    context: z
      .object({ len: z.number().int().min(1), refreshDays: z.number().int().min(1) })
      .strict()
      .optional(),
    gradientFlow: GradientFlowInfoSchema.optional(),
  })
  .strict();

/**
 * What serving needs to rebuild the model's inputs exactly as training did (lib/inference): each feature's
 * catalogue family and lookback, the builder's options, the normalised features' clip, the labels'
 * definition, how the store fills missing days, and how positions are sized.
 */
export const InputSpecSchema = z
  .object({
    features: z.array(z.object({ name: z.string(), group: z.string(), lookback: z.number().int().min(0) }).strict()),
    ohlcv: z.boolean(),
    clip: z.number().positive(),
    window: z.number().int().min(1),
    targets: z.object({ volSpan: z.number().int().min(1), sigmaTarget: z.number().positive(), horizon: z.number().int().min(1) }).strict(),
    /** Consecutive days a missing close is forward filled (the store's maxFillDays). */
    maxFillDays: z.number().int().min(0),
    positionSizing: z
      .object({
        maxPosition: z.number().positive(),
        /** Annualised volatility target for vol scaling; null: positions as the model gives them. */
        volTarget: z.number().positive().nullable(),
        /** p_t = smoothing · p_{t−1} + (1 − smoothing) · z_t; 0: none. */
        smoothing: z.number().min(0).max(0.999),
      })
      .strict(),
    /**
     * X-Trend models: how serving draws a window's context set (lib/model/context-sampler): sequences of
     * `len` days ending in the `poolDays` trading days before the window starts, seeded by `seed` and the date.
     */
    context: z
      .object({ len: z.number().int().min(1), poolDays: z.number().int().min(1), seed: z.number().int() })
      .strict()
      .optional(),
  })
  .strict();

/** The last attribution analysis made while training (the training config's `attribution` section). */
export const AttributionSummarySchema = z
  .object({
    fold: z.number().int().min(0),
    phase: z.enum(['pretrain', 'finetune']),
    epoch: z.number().int().min(0),
    windows: z.number().int().min(1),
    primaryMethod: z.string(),
    consensus: nullableFinite,
    sparsity: z.number(),
    concentration: z.number(),
    infidelity: nullableFinite,
    sensitivity: nullableFinite,
    deadFeatures: z.array(z.string()),
    topFeatures: z.array(z.object({ feature: z.string(), score: z.number() }).strict()),
    health: z.array(z.object({ metric: z.string(), level: z.enum(['good', 'warn', 'bad']), value: z.number() }).strict()),
  })
  .strict();

export const CheckpointMetadataSchema = z
  .object({
    schemaVersion: z.literal(METADATA_SCHEMA_VERSION),
    version: z.number().int().min(1),
    modelType: safeName,
    createdAt: z.string().datetime(),
    /** HEAD of the repository the saving process ran in (SHA-1 or SHA-256 object name), or null. */
    gitCommit: z
      .string()
      .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'must be a full lower-case hex commit id')
      .nullable(),
    /** Whether tracked files differed from gitCommit when saving; null when unknown. */
    gitDirty: z.boolean().nullable(),
    featureNames: uniqueStrings,
    nFeatures: z.number().int().min(1),
    nAssets: z.number().int().min(0),
    assetNames: uniqueStrings,
    /** The full model config, with the model's own bounds: a checkpoint cannot describe a model TFTModel.create would refuse. */
    config: TFTConfigSchema,
    normalization: NormalizationSchema.nullable(),
    trainingInfo: TrainingInfoSchema.nullable(),
    featureSelection: FeatureSelectionSchema.nullable(),
    hpTuning: HpTuningSchema.nullable(),
    oos: OosMetricsSchema.nullable(),
    attribution: AttributionSummarySchema.nullable().optional(),
    /** Absent in checkpoints written before serving existed: lib/inference then says what it assumes. */
    inputSpec: InputSpecSchema.optional(),
    /** sha256 and size of every other file of the checkpoint folder. */
    files: z.record(z.string(), FileEntrySchema),
  })
  .strict()
  .refine((m) => m.featureNames.length === m.nFeatures, { message: 'featureNames must have nFeatures entries', path: ['featureNames'] })
  .refine((m) => m.assetNames.length === m.nAssets, { message: 'assetNames must have nAssets entries', path: ['assetNames'] })
  .refine((m) => m.config.nFeatures === m.nFeatures, { message: 'config.nFeatures must equal nFeatures', path: ['config', 'nFeatures'] })
  .refine((m) => m.config.nEntities === 0 || m.config.nEntities === m.nAssets, {
    // Entity id i is asset assetNames[i]: a table of another size would leave assets without an embedding
    // or embeddings without an asset.
    message: 'config.nEntities must be 0 or equal nAssets',
    path: ['config', 'nEntities'],
  })
  .refine((m) => m.normalization === null || m.normalization.names.join('\u0000') === m.featureNames.join('\u0000'), {
    message: 'normalization.names must equal featureNames',
    path: ['normalization'],
  })
  .refine((m) => m.featureSelection === null || m.featureSelection.selected.every((f) => m.featureNames.includes(f)), {
    message: 'featureSelection.selected must be a subset of featureNames',
    path: ['featureSelection', 'selected'],
  });

export type CheckpointMetadata = z.output<typeof CheckpointMetadataSchema>;

/** What a caller passes to save(); the manager adds the rest. */
export type CheckpointMetadataInput = Omit<
  CheckpointMetadata,
  | 'schemaVersion'
  | 'version'
  | 'createdAt'
  | 'gitCommit'
  | 'gitDirty'
  | 'files'
  | 'config'
  | 'nFeatures'
  | 'normalization'
  | 'trainingInfo'
  | 'featureSelection'
  | 'hpTuning'
  | 'oos'
> & {
  normalization?: CheckpointMetadata['normalization'];
  trainingInfo?: CheckpointMetadata['trainingInfo'];
  featureSelection?: CheckpointMetadata['featureSelection'];
  hpTuning?: CheckpointMetadata['hpTuning'];
  oos?: CheckpointMetadata['oos'];
};

export function validateMetadata(doc: unknown, where: string): CheckpointMetadata {
  if (typeof doc === 'object' && doc !== null && 'schemaVersion' in doc && doc.schemaVersion !== METADATA_SCHEMA_VERSION) {
    const v = (doc as { schemaVersion: unknown }).schemaVersion;
    throw new SchemaError(
      `${where}: schemaVersion: ${JSON.stringify(v)} is not supported (this version reads ${METADATA_SCHEMA_VERSION}; ` +
        'version 1 had no metadata digest: load its weights with TFTModel.loadWeights and save a new checkpoint)',
      'schemaVersion',
    );
  }
  const r = CheckpointMetadataSchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.map(String).join('.') || '(root)';
    throw new SchemaError(`${where}: ${field}: ${issue.message}`, field);
  }
  return r.data;
}

/**
 * Canonical JSON (as RFC 8785): object keys sorted by UTF-16 code units, no whitespace, strings escaped and
 * numbers written as JSON.stringify does (shortest round-trip form). Members whose value is undefined are
 * dropped, as JSON.stringify drops them. reference/checkpoint_interop.py implements the same for Python.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    if (s === undefined) throw new TypeError(`canonicalJson: ${typeof value} has no JSON form`);
    return s;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/**
 * The digest that binds metadata.json to the weights: sha256 (hex) of the UTF-8 canonical JSON of the
 * metadata document with every `files` entry but the weights file's own (which holds the hash of the file
 * the digest is stored in, so including it would be circular). The optional files' hashes are covered, so
 * replacing feature_selector.json and its listed hash is noticed too.
 */
export function metadataDigest(doc: Readonly<Record<string, unknown>>): string {
  const files = { ...((doc.files ?? {}) as Record<string, unknown>) };
  delete files[DIGEST_EXCLUDED_FILE];
  return createHash('sha256')
    .update(canonicalJson({ ...doc, files }), 'utf8')
    .digest('hex');
}

/** The file whose `files` entry the digest leaves out: the weights, which carry the digest. */
const DIGEST_EXCLUDED_FILE = 'model.safetensors';

/** The key of the digest in model.safetensors' `__metadata__`. */
export const METADATA_DIGEST_KEY = 'tft_native.metadata_sha256';
