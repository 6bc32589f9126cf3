/**
 * The README's table of environment variables is the one place a user learns them: it must name every
 * variable the native core reports and every one the sources read, with the core's defaults.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { TFT_ERROR_CODES, capabilities, makeError } from '../lib/index.js';
import { loadAddon } from '../lib/native/loader.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function readmeTable(): Map<string, string[]> {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Environment variables'));
  const rows = new Map<string, string[]>();
  for (const line of section.slice(0, section.indexOf('\n#')).split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.split('|').map((c) => c.trim());
    for (const name of cells[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) rows.set(name[1]!, cells.slice(2));
  }
  return rows;
}

function sourceFiles(dir: string, exts: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p, exts);
    return exts.test(name) ? [p] : [];
  });
}

/** Names the sources read: process.env.X, env.X, getenv("X"), environment::text / integer_at_least("X"), X_ENV = 'X'. */
function variablesRead(): Set<string> {
  const files = [
    ...sourceFiles(path.join(ROOT, 'lib'), /\.ts$/),
    ...sourceFiles(path.join(ROOT, 'native'), /\.(cpp|h|cu)$/),
    ...sourceFiles(path.join(ROOT, 'scripts'), /\.(cjs|mjs)$/),
  ];
  const patterns = [
    /\benv\.([A-Z][A-Z0-9_]+)/g,
    /getenv\("([A-Z][A-Z0-9_]+)"\)/g,
    /(?:environment::text|integer_at_least)\("([A-Z][A-Z0-9_]+)"/g,
    /_ENV\s*=\s*'([A-Z][A-Z0-9_]+)'/g,
  ];
  const names = new Set<string>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) names.add(m[1]!);
  }
  // Variables only set for child processes, or the shell's own, are not tft-native's to document.
  for (const inherited of ['PATH']) names.delete(inherited);
  return names;
}

describe('environment variables', () => {
  it('the core reads only the variables it reports, each documented in the README with its default', () => {
    const table = readmeTable();
    const reported = capabilities().environment;
    expect(reported.map((v) => v.name)).toEqual([
      'TFT_CPU_ISA',
      'TFT_NUM_THREADS',
      'OMP_NUM_THREADS',
      'TFT_CPU_CACHE_MB',
      'TFT_RANK_MEMORY_MB',
    ]);
    for (const v of reported) {
      expect(table.has(v.name), `${v.name} in the README table`).toBe(true);
      expect(table.get(v.name)![1]!.replaceAll('`', ''), `${v.name}'s default`).toContain(v.default.replace(/:.*/, ''));
    }
  });
  it('every variable the sources read is in the README table', () => {
    const table = readmeTable();
    const read = variablesRead();
    expect(read.size).toBeGreaterThan(10);
    const missing = [...read].filter((n) => !table.has(n));
    expect(missing).toEqual([]);
  });
});

describe('error codes', () => {
  it('every native code is one the TypeScript layer knows and builds its own class for', () => {
    const native = loadAddon().errorCodes();
    expect(native.length).toBe(15);
    for (const code of native) {
      expect(TFT_ERROR_CODES, code).toContain(code);
      const err = makeError(code, 'm', 'a');
      expect(err.code).toBe(code);
      // A code the façade did not know would come back as a NativeError carrying it; known ones have
      // their own class, except ERR_NATIVE itself.
      if (code !== 'ERR_NATIVE') expect(err.constructor.name).not.toBe('NativeError');
    }
  });
  it('the codes are unique', () => {
    expect(new Set(TFT_ERROR_CODES).size).toBe(TFT_ERROR_CODES.length);
  });
});
