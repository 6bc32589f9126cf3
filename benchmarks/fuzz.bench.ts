/**
 * `npm run bench:fuzz [-- --cases 10000] [--seed S]`: the fuzz suite at full size (test/fuzz.test.ts runs
 * 300 cases in CI). Seeded malformed checkpoints, CSV price files and snapshot stores, each loaded through
 * the public API in a supervised child process; prints the table the README's reliability section quotes
 * and every failure (untyped error, crash, hang, silent accept) with its mutation. Exit code 1 on any.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { runFuzz } from '../test/fuzz/supervisor.js';
import { printMachine } from './machine.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name}: expected a positive integer, got ${process.argv[i + 1]}`);
  return v;
};

printMachine();
const cases = arg('--cases', 10_000);
const seed = arg('--seed', 20261201);
const dir = mkdtempSync(path.join(tmpdir(), 'tft-fuzz-bench-'));
const t0 = performance.now();
try {
  const s = await runFuzz({ seed, cases, dir });
  const secs = (performance.now() - t0) / 1000;
  const w = (l: string) => process.stdout.write(l + '\n');
  w(`fuzz suite, seed ${seed}: ${s.cases} cases in ${secs.toFixed(0)} s`);
  w('| input | cases | typed errors | accepted |');
  w('|---|---|---|---|');
  for (const [k, v] of Object.entries(s.byKind)) w(`| ${k} | ${v.cases} | ${v.typed} | ${v.accepted} |`);
  w(`crashes ${s.crashes}, hangs ${s.hangs}, untyped errors ${s.untyped}, silent accepts ${s.silentAccepts}`);
  for (const f of s.failures) w(`  ${f.outcome}: ${f.case.kind} #${f.case.id} ${f.case.mutation}: ${f.detail ?? ''}`);
  process.exitCode = s.failures.length > 0 ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
