/**
 * Which column of a source holds each field the store knows (date, symbol, close and the optional open,
 * high, low, volume), matched case-insensitively; a repeated or missing column is a DataError naming it.
 */
import { resolve } from 'node:path';

import { DataError } from '../../errors.js';
import { fieldCountProblem } from './csv-diagnostics.js';
import type { Column, RawSource } from './raw-sources.js';
import { firstLine } from './text-lines.js';

export const REQUIRED = ['date', 'symbol', 'close'] as const;
export const OPTIONAL = ['open', 'high', 'low', 'volume'] as const;
export type Field = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];
export type NumericField = 'close' | 'open' | 'high' | 'low' | 'volume';

export interface MappedSource extends RawSource {
  fields: Map<Field, Column>;
}

function isField(k: string): k is Field {
  return (REQUIRED as readonly string[]).includes(k) || (OPTIONAL as readonly string[]).includes(k);
}

/**
 * DuckDB renames a repeated CSV header (close,close or close,Close) to close_1 / Close_1: a name of that
 * form that the header line does not itself contain is a duplicate of a known column.
 */
function rejectRenamedDuplicate(raw: RawSource, c: Column, header: string): void {
  const renamed = /^(.*)_\d+$/.exec(c.name.trim().toLowerCase());
  if (raw.src.format === 'csv' && renamed && isField(renamed[1]!) && !header.includes(c.name)) {
    throw new DataError(`${raw.src.path}: row 1 (header), column '${renamed[1]}': the column appears twice`, renamed[1]);
  }
}

async function indexFields(raw: RawSource): Promise<Map<Field, Column>> {
  const header = raw.src.format === 'csv' ? await firstLine(resolve(raw.src.path)) : '';
  const fields = new Map<Field, Column>();
  for (const c of raw.columns) {
    rejectRenamedDuplicate(raw, c, header);
    const key = c.name.trim().toLowerCase();
    if (!isField(key)) continue;
    if (fields.has(key)) {
      throw new DataError(`${raw.src.path}: ${raw.src.format === 'csv' ? 'row 1' : 'schema'}, column '${c.name}': the column appears twice`, c.name);
    }
    fields.set(key, c);
  }
  return fields;
}

/**
 * A CSV missing a required column usually has a record with the wrong number of fields (DuckDB's sniffer
 * then gives up on the delimiter and makes one column): that record is the problem to report.
 */
async function requireFields(raw: RawSource, fields: Map<Field, Column>): Promise<void> {
  if (raw.src.format === 'csv' && REQUIRED.some((r) => !fields.has(r))) {
    const problem = await fieldCountProblem(resolve(raw.src.path));
    if (problem) throw new DataError(`${raw.src.path}: ${problem}`, 'source');
  }
  for (const req of REQUIRED) {
    if (fields.has(req)) continue;
    const found = raw.columns.filter((c) => c.name !== 'file_row_number').map((c) => c.name).join(', ');
    throw new DataError(`${raw.src.path}: ${raw.src.format === 'csv' ? 'row 1 (header)' : 'schema'}, column '${req}': missing required column (found: ${found})`, req);
  }
}

export async function mapColumns(raw: RawSource): Promise<MappedSource> {
  const fields = await indexFields(raw);
  await requireFields(raw, fields);
  return { ...raw, fields };
}

/** The optional columns every source has: only those can be columns of the store. */
export function sharedOptional(sources: MappedSource[]): NumericField[] {
  return OPTIONAL.filter((o) => sources.every((m) => m.fields.has(o)));
}
