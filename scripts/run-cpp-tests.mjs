#!/usr/bin/env node
// Runs the C++ test binary built by cmake-js (`npm run build:native`) once per instruction-set path this CPU
// supports (scalar, avx2, avx512: TFT_CPU_ISA), so every kernel path is tested on the machine at hand; a
// developer machine with AVX-512 covers all three. The binary needs no Node at run time; this wrapper only
// finds it, loops over the paths and forwards the exit code. Arguments are test-name filters, passed on.
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
const list = spawnSync(bin, ['--isas'], { encoding: 'utf8' });
if (list.status !== 0) {
  process.stderr.write(list.stderr || 'tft-native: tft_core_tests --isas failed\n');
  process.exit(list.status ?? 1);
}
const isas = list.stdout.split('\n').filter(Boolean).reverse(); // best first
let failed = 0;
for (const isa of isas) {
  process.stdout.write(`\nC++ tests on the ${isa} kernels (TFT_CPU_ISA=${isa}):\n`);
  const r = spawnSync(bin, process.argv.slice(2), { stdio: 'inherit', env: { ...process.env, TFT_CPU_ISA: isa } });
  if (r.status !== 0) failed++;
}
process.stdout.write(`\nC++ tests ran on ${isas.length} kernel path(s): ${isas.join(', ')}; ${failed} failed\n`);
process.exit(failed ? 1 : 0);
