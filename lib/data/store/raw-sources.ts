/**
 * Each source file staged in DuckDB as a relation `raw_<i>` with a record index in file order, so that
 * validation can point back at the record. A table built from read_csv keeps file order
 * (preserve_insertion_order), so its rowid is the record index; Parquet gives file_row_number. Columns
 * are read off the staged relation, so a CSV is sniffed once.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

import { DataError } from '../../errors.js';
import { engineMessage, sqlString } from './sql-literals.js';
import type { Source } from './source-files.js';

export interface Column {
  name: string;
  /** DuckDB's type name (VARCHAR for every CSV cell: CSVs are read as text and parsed by the store). */
  type: string;
}

export interface RawSource {
  src: Source;
  /** The source's position in the store's list, as the `src` column of the prices table records it. */
  index: number;
  relation: string;
  /** The column of `relation` holding the 0-based record index. */
  rec: string;
  columns: Column[];
}

function scanOf(src: Source): string {
  return src.format === 'csv'
    ? `read_csv(${sqlString(src.path)}, header = true, all_varchar = true)`
    : `read_parquet(${sqlString(src.path)}, file_row_number = true)`;
}

/** Reads column names and types of a relation as DuckDB sees it. */
async function describe(conn: DuckDBConnection, relation: string): Promise<Column[]> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return r.getRowsJS().map((row) => ({ name: String(row[0]), type: String(row[1]) }));
}

/** Stages one source; a file DuckDB cannot read is a DataError naming it. */
export async function stageRawSource(conn: DuckDBConnection, src: Source, index: number): Promise<RawSource> {
  const relation = `raw_${index}`;
  // A CSV is copied into a table (its rowid is the record index); a Parquet file stays a view over the file.
  const kind = src.format === 'csv' ? 'TABLE' : 'VIEW';
  const rec = src.format === 'csv' ? 'rowid' : 'file_row_number';
  try {
    await conn.run(`CREATE TEMP ${kind} ${relation} AS SELECT * FROM ${scanOf(src)}`);
    return { src, index, relation, rec, columns: await describe(conn, relation) };
  } catch (err) {
    throw new DataError(`${src.path}: cannot be read as ${src.format.toUpperCase()}: ${engineMessage(err)}`, src.path);
  }
}

/** Drops the staged relations once the prices table holds everything they had. */
export async function dropRawSources(conn: DuckDBConnection, raws: RawSource[]): Promise<void> {
  for (const raw of raws) await conn.run(`${raw.src.format === 'csv' ? 'DROP TABLE' : 'DROP VIEW'} ${raw.relation}`);
}
