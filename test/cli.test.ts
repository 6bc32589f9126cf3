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
