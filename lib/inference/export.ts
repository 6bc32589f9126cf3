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

function csvOf(t: PositionTable): string {
  const names = Object.keys(t.columns);
  const lines = [['symbol', 'date', ...names].join(',')];
  const n = t.dates.length;
  t.symbols.forEach((s, a) => {
    for (let d = 0; d < n; d++) {
      const vals = names.map((c) => t.columns[c]![a * n + d]!);
      if (!Number.isFinite(vals[0]!)) continue; // no position: no row
      lines.push([s, t.dates[d], ...vals.map((v) => (Number.isFinite(v) ? String(v) : ''))].join(','));
    }
  });
  return lines.join('\n') + '\n';
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Writes the table to `file` (format from the extension unless given); returns the row count. */
export async function writePositions(file: string, t: PositionTable, format?: PositionFormat): Promise<number> {
  const f = format ?? (file.endsWith('.parquet') ? 'parquet' : file.endsWith('.csv') ? 'csv' : undefined);
  if (!f) throw new InvalidArgumentError(`out: ${file}: use a .csv or .parquet file name`, 'out');
  const csv = csvOf(t);
  const rows = csv.split('\n').length - 2;
  if (f === 'csv') {
    await writeFileAtomic(file, csv);
    return rows;
  }
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.csv`);
  await writeFileAtomic(tmp, csv);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  // written beside the target and renamed over it: a reader never sees half a file
  const part = `${tmp}.parquet`;
  try {
    await con.run(
      `COPY (SELECT * FROM read_csv(${sqlString(tmp)}, header = true, types = {'symbol': 'VARCHAR', 'date': 'DATE'})) TO ${sqlString(part)} (FORMAT parquet)`,
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
  return rows;
}
