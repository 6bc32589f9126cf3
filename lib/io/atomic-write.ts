/**
 * Durable, atomic file writes: the content goes to a temporary file in the same directory, is fsynced, and
 * is renamed over the target (atomic on POSIX file systems); the directory is fsynced so the rename survives
 * a crash. Readers see the old file or the new one, never a mix; concurrent writers of the same name leave
 * one complete winner.
 */
import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { IoError } from '../errors.js';

export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeFileDurable(file: string, content: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomUUID()}`);
  try {
    await writeFileDurable(tmp, content);
    await rename(tmp, file);
    await fsyncPath(dir);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new IoError(`${file}: atomic write failed (${(e as Error).message})`, file, { cause: e });
  }
}
