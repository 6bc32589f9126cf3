/** Re-reading text files line by line, for diagnostics DuckDB cannot give (it keeps no line numbers). */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

export interface NumberedLine {
  /** 1-based physical line number. */
  line: number;
  text: string;
}

/**
 * The lines of a text file with their numbers. DuckDB reads .gz transparently, and so must every re-read
 * of a CSV here. Leaving the loop early closes the file.
 */
export async function* numberedLines(path: string): AsyncGenerator<NumberedLine, void, undefined> {
  const raw = createReadStream(path);
  const input = path.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const rl = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) yield { line: ++line, text };
  } finally {
    rl.close();
  }
}

/** The first non-blank line of a (possibly gzipped) text file. */
export async function firstLine(path: string): Promise<string> {
  for await (const { text } of numberedLines(path)) if (text.trim() !== '') return text;
  return '';
}
