/**
 * Positions (and signals) for backtests, as a long table — one row per (symbol, date) — in CSV or in
 * Parquet (written by DuckDB, which the data layer already uses, from the same CSV).
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { InvalidArgumentError, IoError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';

export type PositionFormat = 'csv' | 'parquet';

export interface PositionTable {
  symbols: string[];
  dates: string[];
  /** Columns [symbols, dates], written in this order after symbol and date. */
  columns: Record<string, Float32Array>;
}

function csvCell(v: string | number): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

function csvOf(columns: readonly string[], rows: readonly (string | number)[][]): string {
  return [columns.join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n';
}

/** The long rows of a position table: one per (symbol, date) with a position. */
function positionRows(t: PositionTable): { columns: string[]; rows: (string | number)[][] } {
  const names = Object.keys(t.columns);
  const rows: (string | number)[][] = [];
  const n = t.dates.length;
  t.symbols.forEach((s, a) => {
    for (let d = 0; d < n; d++) {
      const vals = names.map((c) => t.columns[c]![a * n + d]!);
      if (Number.isFinite(vals[0]!)) rows.push([s, t.dates[d]!, ...vals]);
    }
  });
  return { columns: ['symbol', 'date', ...names], rows };
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Writes the position table to `file` (format from the extension unless given); returns the row count. */
export async function writePositions(file: string, t: PositionTable, format?: PositionFormat): Promise<number> {
  const { columns, rows } = positionRows(t);
  return writeTable(file, columns, rows, { symbol: 'VARCHAR', date: 'DATE' }, format);
}

/**
 * Writes rows to a .csv or .parquet file, atomically (a temporary file renamed over the target); `types`
 * fixes DuckDB's type of some columns (the rest are inferred). Returns the row count.
 */
export async function writeTable(
  file: string,
  columns: readonly string[],
  rows: readonly (string | number)[][],
  types: Record<string, string> = {},
  format?: PositionFormat,
): Promise<number> {
  const f = format ?? (file.endsWith('.parquet') ? 'parquet' : file.endsWith('.csv') ? 'csv' : undefined);
  if (!f) throw new InvalidArgumentError(`out: ${file}: use a .csv or .parquet file name`, 'out');
  const csv = csvOf(columns, rows);
  if (f === 'csv') {
    await writeFileAtomic(file, csv);
    return rows.length;
  }
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.csv`);
  await writeFileAtomic(tmp, csv);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const part = `${tmp}.parquet`;
  const typeList = Object.entries(types)
    .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
    .join(', ');
  try {
    await con.run(
      `COPY (SELECT * FROM read_csv(${sqlString(tmp)}, header = true${typeList ? `, types = {${typeList}}` : ''})) TO ${sqlString(part)} (FORMAT parquet)`,
    );
    await rename(part, file);
  } catch (e) {
    throw new IoError(`${file}: cannot write Parquet (${(e as Error).message})`, file, { cause: e });
  } finally {
    con.closeSync();
    db.closeSync();
    await rm(tmp, { force: true });
    await rm(part, { force: true });
  }
  return rows.length;
}
