/**
 * Quoting for what the store splices into SQL: file paths and column names come from the user's files,
 * so they are always quoted (never interpolated raw) and cannot end a literal or identifier early.
 */

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A SQL identifier (a column name as the file spells it). */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** The first line of an engine error: the rest is DuckDB's context, noise in a DataError. */
export function engineMessage(err: unknown): string {
  return (err as Error).message.split('\n')[0]!;
}
