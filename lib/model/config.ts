/**
 * TFTConfig: the model's hyperparameters, validated with defaults. Everything the HP tuner searches about
 * the architecture (dHidden, nHeads, lstmLayers, dropout, seqLen, nContext, maxPosition) is here.
 */
import { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

export const TFTConfigSchema = z
  .object({
    // Upper bounds keep a config read from a file (a checkpoint's metadata.json) from implying absurd sizes.
    nFeatures: int(1, 65_536),
    dHidden: int(1, 4096).default(64),
    nHeads: int(1).default(4),
    lstmLayers: int(1, 16).default(1),
    dropout: z.number().min(0).lt(1).default(0.1),
    seqLen: int(1, 65_536).default(63),
    nContext: int(0, 4096).default(0),
    maxPosition: z.number().positive().finite().default(1),
    nEntities: int(0, 1_000_000).default(0),
    seed: int(0, 2 ** 53 - 1).default(0),
  })
  .strict()
  .refine((c) => c.dHidden % c.nHeads === 0, { message: 'dHidden must be divisible by nHeads', path: ['nHeads'] });

export type TFTConfig = z.output<typeof TFTConfigSchema>;
export type TFTConfigInput = z.input<typeof TFTConfigSchema>;

/** Fills defaults and validates; an invalid field raises InvalidArgumentError naming `config.<field>`. */
export function resolveConfig(input: TFTConfigInput): TFTConfig {
  const r = TFTConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = `config.${issue.path.join('.') || '(root)'}`;
    throw new InvalidArgumentError(`${field}: ${issue.message}`, field);
  }
  return r.data;
}
