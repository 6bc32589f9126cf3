/** The one root of the golden fixtures (written by reference/fixtures/*.py; the C++ tests read it too). */
import path from 'node:path';

export const FIXTURES_ROOT = path.resolve(import.meta.dirname, '..', 'fixtures');

/** A path below the fixtures root. */
export function fixturePath(...parts: string[]): string {
  return path.join(FIXTURES_ROOT, ...parts);
}
