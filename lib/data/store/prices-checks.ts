/**
 * Checks on the loaded prices table, each reporting the first offending record by file, row and column:
 * empty sources, invalid cells, duplicate (symbol, date) rows. Details are fetched only on failure, so a
 * valid store pays one aggregate query per check.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

import { DataError } from '../../errors.js';
import type { Field, MappedSource } from './column-mapping.js';
import { reportedRow } from './csv-diagnostics.js';
import { sqlIdent } from './sql-literals.js';
import type { Source } from './source-files.js';

/** ' (n-1 more …)' when a problem occurs more than once, else ''. */
function moreNote(n: number, what: string): string {
  return n > 1 ? ` (${n - 1} more ${what})` : '';
}

/** Every source must contribute at least one row. */
export async function requireRows(conn: DuckDBConnection, sources: Source[]): Promise<void> {
  const counts = await conn.runAndReadAll(`SELECT src, count(*) FROM prices GROUP BY src`);
  const nonEmpty = new Set(counts.getRowsJS().map((r) => Number(r[0])));
  sources.forEach((src, i) => {
    if (!nonEmpty.has(i)) throw new DataError(`${src.path}: no data rows`, src.path);
  });
}

/** The cell as the file has it, for the message (CAST to text shows a typed Parquet value too). */
async function cellText(conn: DuckDBConnection, source: MappedSource, column: Field, rec: number): Promise<string> {
  const name = source.fields.get(column)!.name;
  const text = await conn.runAndReadAll(`SELECT CAST(${sqlIdent(name)} AS VARCHAR) FROM ${source.relation} WHERE ${source.rec} = ${rec}`);
  const raw = text.getRowsJS()[0]?.[0];
  return raw === null || raw === undefined ? '' : ` '${String(raw)}'`;
}

/** Throws for the first record (in source and file order) with a problem; the staged relations must still exist. */
export async function rejectBadCells(conn: DuckDBConnection, sources: MappedSource[]): Promise<void> {
  const bad = await conn.runAndReadAll(
    `SELECT src, rec, problem, count(*) OVER () AS n FROM prices WHERE problem IS NOT NULL ORDER BY src, rec LIMIT 1`,
  );
  const badRow = bad.getRowObjectsJS()[0];
  if (!badRow) return;
  const source = sources[Number(badRow.src)]!;
  const rec = Number(badRow.rec);
  const [column, what] = String(badRow.problem).split('|') as [Field, string];
  const shown = await cellText(conn, source, column, rec);
  const row = await reportedRow(source.src, rec);
  const more = moreNote(Number(badRow.n), 'rows have problems');
  throw new DataError(`${source.src.path}: row ${row}, column '${column}': value${shown} ${what}${more}`, column);
}

/**
 * The first two rows of the first duplicated (symbol, date) pair, within a file or across files, each
 * with `n`, the number of duplicated pairs; empty when there is none. A plain GROUP BY finds them.
 */
async function firstDuplicateRows(conn: DuckDBConnection): Promise<Record<string, unknown>[]> {
  const dup = await conn.runAndReadAll(
    `WITH k AS (SELECT symbol, d, count(*) OVER () AS n FROM prices GROUP BY symbol, d HAVING count(*) > 1)
     SELECT p.symbol, p.d::VARCHAR AS day, p.src, p.rec, k.n FROM prices p JOIN k USING (symbol, d)
     ORDER BY p.src, p.rec LIMIT 1`,
  );
  const first = dup.getRowObjectsJS()[0];
  if (!first) return [];
  const rows = await conn.runAndReadAll(
    `SELECT src, rec, ${Number(first.n)} AS n, symbol, d::VARCHAR AS day FROM prices WHERE symbol = $1 AND d = $2::DATE ORDER BY src, rec LIMIT 2`,
    [String(first.symbol), String(first.day)],
  );
  return rows.getRowObjectsJS();
}

export async function rejectDuplicates(conn: DuckDBConnection, sources: Source[]): Promise<void> {
  const dupRows = await firstDuplicateRows(conn);
  if (dupRows.length === 0) return;
  const where: string[] = [];
  for (const r of dupRows) {
    const src = sources[Number(r.src)]!;
    where.push(`${src.path}: row ${await reportedRow(src, Number(r.rec))}`);
  }
  const { symbol, day, n } = dupRows[0]!;
  const more = moreNote(Number(n), 'duplicated (symbol, date) pairs');
  throw new DataError(`${where.join(' and ')}, column 'date': duplicate row for (symbol, date) = ('${String(symbol)}', ${String(day)})${more}`, 'date');
}

/** Whether every (file, symbol) had its rows in ascending date order: reported, never required. */
export async function isSortedInput(conn: DuckDBConnection): Promise<boolean> {
  const sorted = await conn.runAndReadAll(
    `SELECT coalesce(bool_and(prev IS NULL OR d > prev), true) FROM (SELECT d, lag(d) OVER (PARTITION BY src, symbol ORDER BY rec) AS prev FROM prices)`,
  );
  return Boolean(sorted.getRowsJS()[0]![0]);
}
