#!/usr/bin/env node
// Runs the C++ test binary built by cmake-js (`npm run build:native`). It needs no Node at run time; this
// wrapper only finds it and forwards the exit code.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'build', 'tft_core_tests');
if (!existsSync(bin)) {
  process.stderr.write('tft-native: build/tft_core_tests is missing; run `npm run build:native` first.\n');
  process.exit(1);
}
const r = spawnSync(bin, process.argv.slice(2), { stdio: 'inherit' });
process.exit(r.status ?? 1);
