/**
 * Recovering what DuckDB does not report about a CSV: the physical line of a record (it skips blank
 * lines and keeps no line numbers) and the record whose field count breaks the header's (its sniffer
 * then just fails to find columns). These re-read the file, so they run on the error path only.
 */
import { resolve } from 'node:path';

import { numberedLines, firstLine } from './text-lines.js';
import type { Source } from './source-files.js';

/** Whether a line holds an odd number of double quotes, i.e. opens or closes a quoted field spanning lines. */
function togglesQuote(text: string): boolean {
  let odd = false;
  for (const ch of text) if (ch === '"') odd = !odd;
  return odd;
}

/**
 * Physical 1-based line numbers of CSV data records (0-based, header excluded). A quoted field spanning
 * lines is followed by counting quotes, so its continuation lines are not taken for records.
 */
export async function csvRecordLines(path: string, records: number[]): Promise<Map<number, number>> {
  const wanted = new Set(records);
  const out = new Map<number, number>();
  let rec = -1; // -1: the header
  let inQuote = false;
  let started = false;
  for await (const { line, text } of numberedLines(path)) {
    if (!inQuote) {
      if (text.trim() === '') continue;
      if (started) rec++;
      started = true;
      if (rec >= 0 && wanted.has(rec)) {
        out.set(rec, line);
        if (out.size === wanted.size) break;
      }
    }
    if (togglesQuote(text)) inQuote = !inQuote;
  }
  return out;
}

/** The 1-based row a record is reported as: its physical line in a CSV, its row in a Parquet file. */
export async function reportedRow(src: Source, rec: number): Promise<number> {
  if (src.format === 'parquet') return rec + 1;
  const lines = await csvRecordLines(resolve(src.path), [rec]);
  return lines.get(rec) ?? rec + 2;
}

/** Fields of one CSV line, splitting on `delim` outside double quotes. */
function csvFieldCount(line: string, delim: string): number {
  let n = 1;
  let q = false;
  for (const ch of line) {
    if (ch === '"') q = !q;
    else if (ch === delim && !q) n++;
  }
  return n;
}

/** The header's most frequent candidate delimiter is the file's (ties go to the earlier candidate). */
function headerDelimiter(header: string): string {
  return [',', '\t', ';', '|'].sort((a, b) => csvFieldCount(header, b) - csvFieldCount(header, a))[0]!;
}

/**
 * When DuckDB could not make columns of a CSV, the usual cause is a record with more or fewer fields than
 * the header: the first such record, named by its line, or undefined when every record matches.
 */
export async function fieldCountProblem(path: string): Promise<string | undefined> {
  const header = await firstLine(path);
  const delim = headerDelimiter(header);
  const want = csvFieldCount(header, delim);
  if (want < 2) return undefined;
  let seenHeader = false;
  for await (const { line, text } of numberedLines(path)) {
    if (text.trim() === '') continue;
    if (!seenHeader) {
      seenHeader = true;
      continue;
    }
    const got = csvFieldCount(text, delim);
    if (got !== want) return `row ${line}: ${got} field${got === 1 ? '' : 's'} where the header (row 1) has ${want}`;
  }
  return undefined;
}
