/**
 * The journal file: append-only, one JSON operation per line (Optuna's JournalFileStorage format).
 *
 * - Appends happen under the symlink lock, are fsynced, and end in a newline.
 * - A process killed mid-append leaves a torn last line (no newline). Readers never consume a line
 *   without its newline, so replay ignores it; the next writer, holding the lock, truncates it before
 *   appending, so the file stays one that Optuna itself reads (Optuna raises on a bad line that is not
 *   the last).
 * - Reads are incremental: each sync reads only the bytes appended since the previous one.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

import { CorruptFileError, IoError } from '../../errors.js';
import { decodeLine, encodeLine } from './journal-codec.js';
import { JournalFileLock, type FileLockOptions } from './file-lock.js';

export interface JournalBackend {
  /** Operations appended since the previous call, in file order. */
  readNew(): Record<string, unknown>[];
  /**
   * Appends the ops; with `guard`, only if it returns true when called under the writers' lock (after
   * every line other writers appended has been read), so a check and its write are one atomic step.
   * Resolves to whether the ops were written.
   */
  append(ops: readonly object[], guard?: () => boolean): Promise<boolean>;
  readonly description: string;
}

export class JournalFile implements JournalBackend {
  readonly path: string;
  readonly #lock: JournalFileLock;
  #offset = 0;
  #line = 0;

  constructor(path: string, lock: FileLockOptions = {}) {
    this.path = path;
    this.#lock = new JournalFileLock(path, lock);
    try {
      if (!existsSync(path)) closeSync(openSync(path, 'a'));
    } catch (err) {
      throw new IoError(`cannot create the study journal ${path}: ${(err as Error).message}`, path);
    }
  }

  get description(): string {
    return `journal:${this.path}`;
  }

  readNew(): Record<string, unknown>[] {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= this.#offset) return [];
      const buf = Buffer.alloc(size - this.#offset);
      readSync(fd, buf, 0, buf.length, this.#offset);
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) return [];
      const ops: Record<string, unknown>[] = [];
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        this.#line++;
        try {
          ops.push(decodeLine(line));
        } catch {
          throw new CorruptFileError(`${this.path}: line ${this.#line} is not a JSON operation`, this.path);
        }
      }
      this.#offset += end + 1;
      return ops;
    } finally {
      closeSync(fd);
    }
  }

  async append(ops: readonly object[], guard?: () => boolean): Promise<boolean> {
    const text = Buffer.from(ops.map((op) => encodeLine(op) + '\n').join(''), 'utf8');
    return this.#lock.withLock(() => {
      if (guard && !guard()) return false;
      const fd = openSync(this.path, 'r+');
      try {
        const size = repairTornTail(fd);
        writeSync(fd, text, 0, text.length, size);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return true;
    });
  }
}

/** Truncates a last line without its newline (left by a writer killed mid-append); returns the new size. */
function repairTornTail(fd: number): number {
  const size = fstatSync(fd).size;
  if (size === 0) return 0;
  const tail = Buffer.alloc(Math.min(size, 1 << 16));
  let pos = size;
  for (;;) {
    const n = Math.min(tail.length, pos);
    readSync(fd, tail, 0, n, pos - n);
    if (pos === size && tail[n - 1] === 0x0a) return size;
    const nl = tail.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) {
      const keep = pos - n + nl + 1;
      ftruncateSync(fd, keep);
      return keep;
    }
    pos -= n;
    if (pos === 0) {
      ftruncateSync(fd, 0);
      return 0;
    }
  }
}

/** A journal held in memory (studies that need no persistence, tests). */
export class MemoryJournal implements JournalBackend {
  readonly #ops: Record<string, unknown>[] = [];
  #read = 0;
  get description(): string {
    return 'memory';
  }
  readNew(): Record<string, unknown>[] {
    const out = this.#ops.slice(this.#read);
    this.#read = this.#ops.length;
    return out;
  }
  append(ops: readonly object[], guard?: () => boolean): Promise<boolean> {
    if (guard && !guard()) return Promise.resolve(false);
    // Round-trip through the codec so an in-memory study behaves exactly as a file one.
    for (const op of ops) this.#ops.push(decodeLine(encodeLine(op)));
    return Promise.resolve(true);
  }
}
