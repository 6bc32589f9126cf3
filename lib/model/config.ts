/**
 * TFTConfig: the model's hyperparameters, validated with defaults. Everything the HP tuner searches about
 * the architecture (dHidden, nHeads, lstmLayers, dropout, seqLen, nContext, maxPosition) is here.
 */
import { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

/**
 * The fields and their bounds, without the cross-field rule: other schemas (the training config) build on
 * these so that a bad model value is caught where that schema is parsed, with the same bounds.
 */
export const TFTConfigFields = z
  .object({
    // Upper bounds keep a config read from a file (a checkpoint's metadata.json) from implying absurd sizes.
    nFeatures: int(1, 65_536),
    dHidden: int(1, 4096).default(64),
    nHeads: int(1).default(4),
    lstmLayers: int(1, 16).default(1),
    dropout: z.number().min(0).lt(1).default(0.1),
    seqLen: int(1, 65_536).default(63),
    nContext: int(0, 4096).default(0),
    // Positions are float32: a bound far below float32's range (3.4e38) keeps maxPosition * tanh finite.
    maxPosition: z.number().positive().max(1e6).default(1),
    nEntities: int(0, 1_000_000).default(0),
    seed: int(0, 2 ** 53 - 1).default(0),
  })
  .strict();

/** The cross-field rule: attention heads split dHidden evenly. */
export const headsDivideHidden = {
  check: (c: { dHidden: number; nHeads: number }) => c.dHidden % c.nHeads === 0,
  message: 'dHidden must be divisible by nHeads',
  path: ['nHeads'],
} as const;

export const TFTConfigSchema = TFTConfigFields.refine(headsDivideHidden.check, {
  message: headsDivideHidden.message,
  path: [...headsDivideHidden.path],
});

export type TFTConfig = z.output<typeof TFTConfigSchema>;
export type TFTConfigInput = z.input<typeof TFTConfigSchema>;

/**
 * The dotted path of a zod issue. An unknown key is reported by zod at the object holding it; naming the
 * key itself tells the user which line of their config to fix.
 */
export function issuePath(issue: z.core.$ZodIssue): string {
  const base = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) base.push(issue.keys[0]!);
  return base.join('.');
}

/** Fills defaults and validates; an invalid field raises InvalidArgumentError naming `config.<field>`. */
export function resolveConfig(input: TFTConfigInput): TFTConfig {
  const r = TFTConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = `config.${issuePath(issue) || '(root)'}`;
    throw new InvalidArgumentError(`${field}: ${issue.message}`, field);
  }
  return r.data;
}
