/**
 * Reading files that must be plain files inside a folder the caller controls (checkpoint parts): a FIFO or
 * device named like one would block a read forever, and a symbolic link could point anywhere. The file is
 * opened without following a final symlink and without blocking (O_NOFOLLOW | O_NONBLOCK: a FIFO opens at
 * once instead of waiting for a writer), then checked to be a regular file through the open descriptor,
 * so there is no window between the check and the read.
 */
import { constants, type ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

import { IoError } from '../errors.js';

const FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Opens `file` for reading if it is a regular file (not a link, FIFO, socket or device); IoError otherwise. */
export async function openRegularFile(file: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new IoError(`${file}: is a symbolic link (not followed)`, file, { cause: e });
    throw e;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new IoError(`${file}: not a regular file`, file);
  }
  return fh;
}

export async function readRegularFile(file: string): Promise<string> {
  const fh = await openRegularFile(file);
  try {
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** A read stream over a regular file (see openRegularFile); the stream closes the handle when done. */
export async function regularFileStream(file: string, highWaterMark: number): Promise<ReadStream> {
  const fh = await openRegularFile(file);
  return fh.createReadStream({ highWaterMark, autoClose: true });
}
