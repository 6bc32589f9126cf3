/** The command line as a whole: what every command shares. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { runCli, spawnCli } from './helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('tft-native --version', () => {
  it("prints package.json's version and exits 0", async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect([r.code, r.out, r.err]).toEqual([0, `${version}\n`, '']);
    }
  });

  it('finds package.json from the CLI file, not the working directory', async () => {
    const r = await spawnCli(['--version'], { cwd: mkdtempSync(path.join(tmpdir(), 'tft-cli-')) });
    expect([r.code, r.out, r.err]).toEqual([0, `${version}\n`, '']);
  });
});

describe('native core preload', () => {
  it('starts for commands that use the core, not for help, version or data', async () => {
    const { needsNativeCore } = await import('../lib/cli/main.js');
    expect(needsNativeCore(['predict', '--date', '2000-01-03'])).toBe(true);
    expect(needsNativeCore(['train'])).toBe(true);
    expect(needsNativeCore([])).toBe(false);
    expect(needsNativeCore(['--help'])).toBe(false);
    expect(needsNativeCore(['-V'])).toBe(false);
    expect(needsNativeCore(['help', 'predict'])).toBe(false);
    expect(needsNativeCore(['data', 'info'])).toBe(false);
  });

  it('a worker loading the core alongside the main thread leaves the command working (fresh process)', async () => {
    const r = await spawnCli(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out) as { cpuIsa?: string };
    expect(typeof info.cpuIsa).toBe('string');
  });
});
