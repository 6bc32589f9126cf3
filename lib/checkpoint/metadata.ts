/**
 * CheckpointMetadata: everything needed to rebuild, verify and understand a checkpoint, schema-validated on
 * write and on read (schemaVersion 1). The manager fills version, createdAt, gitCommit, the model's config
 * and the sha256 of every file; callers give the rest (CheckpointMetadataInput).
 */
import { z } from 'zod';

import { SchemaError } from '../errors.js';

const finite = z.number().refine(Number.isFinite, 'must be finite');
const nullableFinite = z.number().nullable();

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
  })
  .strict();

export const OosMetricsSchema = z.object({ sharpe: nullableFinite, totalReturn: nullableFinite, maxDrawdown: nullableFinite }).strict();

export const CheckpointMetadataSchema = z
  .object({
    schemaVersion: z.literal(1),
    version: z.number().int().min(1),
    modelType: z.string().min(1),
    createdAt: z.string().datetime(),
    gitCommit: z.string().nullable(),
    featureNames: z.array(z.string()),
    nFeatures: z.number().int().min(1),
    nAssets: z.number().int().min(0),
    assetNames: z.array(z.string()),
    /** The full model config (TFTConfig); validated again by resolveConfig when the model is rebuilt. */
    config: z.record(z.string(), z.unknown()),
    normalization: NormalizationSchema.nullable(),
    trainingInfo: z
      .object({
        folds: z.array(FoldInfoSchema),
        epochs: z.object({ pretrain: z.number().int().min(0), finetune: z.number().int().min(0) }).strict().optional(),
        lossMode: z.string().optional(),
        seconds: z.number().min(0).optional(),
      })
      .strict()
      .nullable(),
    featureSelection: z.object({ selected: z.array(z.string()), stabilityScores: z.record(z.string(), finite) }).strict().nullable(),
    hpTuning: z.object({ bestParams: z.record(z.string(), z.unknown()), bestValue: nullableFinite.optional() }).strict().nullable(),
    oos: OosMetricsSchema.nullable(),
    /** sha256 and size of every other file of the checkpoint folder. */
    files: z.record(z.string(), FileEntrySchema),
  })
  .strict()
  .refine((m) => m.featureNames.length === m.nFeatures, { message: 'featureNames must have nFeatures entries', path: ['featureNames'] })
  .refine((m) => m.assetNames.length === m.nAssets, { message: 'assetNames must have nAssets entries', path: ['assetNames'] })
  .refine((m) => m.normalization === null || m.normalization.names.join('\u0000') === m.featureNames.join('\u0000'), {
    message: 'normalization.names must equal featureNames',
    path: ['normalization'],
  });

export type CheckpointMetadata = z.output<typeof CheckpointMetadataSchema>;

/** What a caller passes to save(); the manager adds the rest. */
export type CheckpointMetadataInput = Omit<
  CheckpointMetadata,
  'schemaVersion' | 'version' | 'createdAt' | 'gitCommit' | 'files' | 'config' | 'nFeatures' | 'normalization' | 'trainingInfo' | 'featureSelection' | 'hpTuning' | 'oos'
> & {
  normalization?: CheckpointMetadata['normalization'];
  trainingInfo?: CheckpointMetadata['trainingInfo'];
  featureSelection?: CheckpointMetadata['featureSelection'];
  hpTuning?: CheckpointMetadata['hpTuning'];
  oos?: CheckpointMetadata['oos'];
};

export function validateMetadata(doc: unknown, where: string): CheckpointMetadata {
  const r = CheckpointMetadataSchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join('.') || '(root)';
    throw new SchemaError(`${where}: ${field}: ${issue.message}`, field);
  }
  return r.data;
}
