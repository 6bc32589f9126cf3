/** One way to read a config document against its zod schema: defaults filled, or a SchemaError naming the field. */
import type { z } from 'zod';

import { SchemaError } from '../errors.js';
import { issuePath } from '../model/config.js';

export function parseWithSchema<S extends z.ZodType>(schema: S, input: unknown, source: string): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issuePath(issue) || '(root)';
    throw new SchemaError(`${source}: ${where}: ${issue.message}`, where);
  }
  return r.data;
}
