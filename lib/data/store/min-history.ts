/**
 * The minHistory requirement: a symbol whose longest run of listed days is too short for the features
 * asked of it fails with a DataError pointing at the symbol's rows, so the user can see which file is short.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

import { DataError } from '../../errors.js';
import { longestListedRun, type PricePanel } from '../price-panel.js';
import { reportedRow } from './csv-diagnostics.js';
import { sourceList, type Source } from './source-files.js';

/** 'file: rows a–b' for the symbol's rows in the first source that has it; every file when none does. */
async function symbolRows(conn: DuckDBConnection, symbol: string, sources: Source[]): Promise<string> {
  const r = await conn.runAndReadAll(
    `SELECT src, min(rec), max(rec), count(*) FROM prices WHERE symbol = $1 GROUP BY src ORDER BY src LIMIT 1`,
    [symbol],
  );
  const row = r.getRowsJS()[0];
  if (!row) return sourceList(sources);
  const src = sources[Number(row[0])]!;
  return `${src.path}: rows ${await reportedRow(src, Number(row[1]))}–${await reportedRow(src, Number(row[2]))}`;
}

export async function checkMinHistory(conn: DuckDBConnection, panel: PricePanel, minHistory: number, sources: Source[]): Promise<void> {
  const runs = longestListedRun(panel);
  for (let s = 0; s < panel.symbols.length; s++) {
    if (runs[s]! >= minHistory) continue;
    const symbol = panel.symbols[s]!;
    const where = await symbolRows(conn, symbol, sources);
    throw new DataError(
      `${where}, column 'symbol': symbol '${symbol}' has too little history: its longest run of listed days between ${panel.dates[0]} and ${panel.dates[panel.dates.length - 1]} is ${runs[s]}, ${minHistory} needed`,
      symbol,
    );
  }
}
