/**
 * Names that become path components (model types, stability targets and methods) are validated, never
 * encoded: a name that could leave its base directory is refused outright. Paths built from them are then
 * resolved and checked to stay inside the base directory, symlinks included.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';

import { UnsafePathError } from '../errors.js';

/** Rejects empty names, `.`/`..`, separators, NUL, absolute paths, leading dots and control characters. */
export function assertSafeName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new UnsafePathError(`${what}: must be a non-empty string`, what);
  // File systems limit a name to 255 bytes; 160 leaves room for the extension and the temporary-file
  // prefix and suffix used by atomic writes, in bytes (non-ASCII names take 2-4 bytes a character).
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > 160) throw new UnsafePathError(`${what}: longer than 160 bytes in UTF-8 (${bytes})`, what);
  if (name === '.' || name === '..' || name.startsWith('.')) {
    throw new UnsafePathError(`${what}: '${name}' is not allowed (leading dot, '.' and '..' are reserved)`, what);
  }
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are refused
  if (/[/\\\u0000-\u001f\u007f]/.test(name) || path.isAbsolute(name)) {
    throw new UnsafePathError(`${what}: '${name.replaceAll('\u0000', '\\0')}' contains a path separator, NUL or a control character`, what);
  }
  return name;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** `base/…parts`, refusing anything that resolves (after symlinks, where the path exists) outside `base`. */
export function resolveInside(base: string, ...parts: string[]): string {
  const root = path.resolve(base);
  const target = path.resolve(root, ...parts);
  const rel = path.relative(root, target);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UnsafePathError(`${target} is outside ${root}`, target);
  const realRoot = realOrSelf(root);
  const realTarget = realOrSelf(target);
  const realRel = path.relative(realRoot, realTarget);
  if (realRel.startsWith('..') || path.isAbsolute(realRel)) {
    throw new UnsafePathError(`${target} resolves (through a symbolic link) outside ${root}`, target);
  }
  return target;
}
