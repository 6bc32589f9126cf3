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
const args = process.argv.slice(2);
const r = spawnSync(bin, args, { stdio: 'inherit' });
if (r.status !== 0 || args.length > 0) process.exit(r.status ?? 1);
// The kernels with an AVX-512 form, again through their portable form (this machine would otherwise only
// ever run one of the two).
process.stdout.write('\nportable kernels (TFT_DISABLE_AVX512=1):\n');
const portable = spawnSync(
  bin,
  ['kendall', 'weighted_tau', 'spearman', 'jaccard', 'model_matches_pytorch', 'rolling_equals_batch', 'determinism'],
  { stdio: 'inherit', env: { ...process.env, TFT_DISABLE_AVX512: '1' } },
);
process.exit(portable.status ?? 1);
