/** The user's input files: checked to exist, given a format, and sized to choose DuckDB's thread count. */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';

import { InvalidArgumentError, IoError, NotFoundError } from '../../errors.js';

export type DataFormat = 'csv' | 'parquet';

export interface Source {
  path: string;
  format: DataFormat;
}

const SMALL_INPUT_BYTES = 32 * 2 ** 20;

function inferFormat(path: string): DataFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (/\.(csv|tsv|txt)(\.gz)?$/.test(lower)) return 'csv';
  throw new InvalidArgumentError(`${path}: cannot infer the format from the extension '${extname(path)}'; pass { format: 'csv' | 'parquet' }`, 'source');
}

function checkedSource(p: string, format: DataFormat | undefined): Source {
  if (typeof p !== 'string' || p.length === 0) throw new InvalidArgumentError('source: paths must be non-empty strings', 'source');
  const abs = resolve(p);
  if (!existsSync(abs)) throw new NotFoundError(`${p}: no such file`, p);
  if (!statSync(abs).isFile()) throw new IoError(`${p}: not a regular file`, p);
  return { path: p, format: format ?? inferFormat(p) };
}

/** One Source per path, in order; the first bad path throws. */
export function resolveSources(source: string | string[], format: DataFormat | undefined): Source[] {
  const paths = Array.isArray(source) ? source : [source];
  if (paths.length === 0) throw new InvalidArgumentError('source: at least one file is required', 'source');
  return paths.map((p) => checkedSource(p, format));
}

/**
 * DuckDB worker threads: small inputs read faster on one thread (parallel scans cost more to coordinate
 * than they save); large ones get every core (undefined: DuckDB's default).
 */
export function threadsFor(sources: Source[], requested: number | undefined): number | undefined {
  const bytes = sources.reduce((a, src) => a + statSync(resolve(src.path)).size, 0);
  const threads = requested ?? (bytes < SMALL_INPUT_BYTES ? 1 : undefined);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new InvalidArgumentError(`threads must be a positive integer, got ${threads}`, 'threads');
  }
  return threads;
}

/** Every source's path, as error messages about the whole store name it. */
export function sourceList(sources: Source[]): string {
  return sources.map((x) => x.path).join(', ');
}
