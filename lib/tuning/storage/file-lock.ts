/**
 * The journal's inter-process lock, the same protocol as Optuna's JournalFileSymlinkLock: the lock is a
 * symbolic link `<journal>.lock` (symlink creation is atomic, also on NFS), released by renaming it to a
 * unique name and unlinking that. Python workers and Node workers can therefore share one journal.
 *
 * A writer holds the lock for one append (milliseconds). A lock older than `staleMs` can only be left by
 * a process killed while appending, so it is broken; Optuna itself would wait forever there.
 */
import { randomUUID } from 'node:crypto';
import { lstat, rename, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';

import { IoError } from '../../errors.js';

export interface FileLockOptions {
  /** A lock older than this is taken to be left by a dead process (default 30 s). */
  staleMs?: number;
  /** Give up after this long (default 10 min). */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class JournalFileLock {
  readonly lockPath: string;
  readonly #target: string;
  readonly #staleMs: number;
  readonly #timeoutMs: number;

  constructor(journalPath: string, opts: FileLockOptions = {}) {
    this.#target = journalPath;
    this.lockPath = `${journalPath}.lock`;
    this.#staleMs = opts.staleMs ?? 30_000;
    this.#timeoutMs = opts.timeoutMs ?? 600_000;
  }

  async acquire(): Promise<void> {
    const t0 = Date.now();
    let wait = 1;
    for (;;) {
      try {
        await symlink(path.basename(this.#target), this.lockPath);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new IoError(`cannot lock ${this.lockPath}: ${(err as Error).message}`, this.lockPath);
      }
      if (await this.#breakIfStale()) continue;
      if (Date.now() - t0 > this.#timeoutMs) throw new IoError(`timed out waiting for the journal lock ${this.lockPath}`, this.lockPath);
      await sleep(wait);
      wait = Math.min(wait * 2, 100);
    }
  }

  async release(): Promise<void> {
    const moved = `${this.lockPath}${randomUUID()}.rename`;
    await rename(this.lockPath, moved);
    await unlink(moved);
  }

  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }

  async #breakIfStale(): Promise<boolean> {
    try {
      const st = await lstat(this.lockPath);
      if (Date.now() - st.mtimeMs < this.#staleMs) return false;
      const moved = `${this.lockPath}${randomUUID()}.stale`;
      await rename(this.lockPath, moved);
      await unlink(moved);
      return true;
    } catch {
      // Released or broken by someone else meanwhile: try again.
      return true;
    }
  }
}
