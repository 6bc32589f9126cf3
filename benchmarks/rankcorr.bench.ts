/**
 * `npm run bench:rankcorr`: tft-native's Kendall tau-b matrix against what a user would otherwise run —
 * pandas DataFrame.corr(method="kendall") and a scipy.stats.kendalltau loop (Debian's /usr/bin/python3 with
 * python3-pandas/python3-scipy) — in one run, on the same matrix, printing each time and the ratio.
 * pandas and scipy are single-threaded, so tft-native is timed at 1 thread and at all cores.
 *
 *   --quick      scipy loop on a 2,000-pair sample at 1000×1000 (extrapolated, labelled), pandas skipped there
 *   --python P   the reference interpreter (default /usr/bin/python3)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { capabilities, getNumThreads, kendallAlgorithmFor, kendallTauMatrix, setNumThreads } from '../lib/index.js';
import { printMachine } from './machine.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const python = args.includes('--python') ? args[args.indexOf('--python') + 1]! : '/usr/bin/python3';
const ROOT = path.resolve(import.meta.dirname, '..');

function rngMatrix(m: number, n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Importance-like values: positive, heavy-tailed, continuous (no ties), as real snapshots are.
  return Float64Array.from({ length: m * n }, () => -Math.log(1 - next()));
}

async function timeTft(data: Float64Array, m: number, n: number, threads: number, reps: number) {
  setNumThreads(threads);
  const first0 = performance.now();
  const result = await kendallTauMatrix({ data, rows: m, cols: n });
  const first = performance.now() - first0;
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await kendallTauMatrix({ data, rows: m, cols: n });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { result, first, median: times[Math.floor(times.length / 2)]! };
}

const fmt = (s: number) => (s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`);

async function main() {
  printMachine();
  const caps = capabilities();
  const cores = getNumThreads();
  process.stdout.write(
    `tft-native Kendall tau-b matrix benchmark\n  libtorch ${caps.torchVersion}, ${cores} core(s), ${caps.blas.split(' ').slice(0, 2).join(' ')}, ` +
      `AVX-512 VPOPCNTDQ ${caps.avx512Vpopcnt ? 'yes' : 'no'}\n  reference: ${python}\n\n`,
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'tft-bench-'));
  for (const [m, n] of [
    [200, 300],
    [1000, 1000],
  ] as const) {
    const data = rngMatrix(m, n, m * 7919 + n);
    const one = await timeTft(data, m, n, 1, m > 500 ? 3 : 9);
    const all = await timeTft(data, m, n, cores, m > 500 ? 3 : 9);
    const file = path.join(dir, `x_${m}_${n}.f64`);
    writeFileSync(file, Buffer.from(data.buffer));
    writeFileSync(`${file}.tft`, Buffer.from(all.result.buffer));
    const big = m >= 1000;
    const pyArgs = [path.join(ROOT, 'reference/bench/rankcorr_reference.py'), file, String(m), String(n)];
    if (quick && big) pyArgs.push('--pairs-sample', '2000', '--skip-pandas');
    process.stdout.write(`m=${m} snapshots × n=${n} features (${kendallAlgorithmFor(m, n)} algorithm): running the Python references…\n`);
    const ref = JSON.parse(execFileSync(python, pyArgs, { encoding: 'utf8', maxBuffer: 1 << 24 })) as {
      pandas_s?: number;
      scipy_loop_s: number;
      scipy_loop_extrapolated_from_pairs: number | null;
      max_abs_diff_vs_pandas?: number;
      max_abs_diff_vs_scipy?: number;
    };
    const t1 = one.median / 1000;
    const tn = all.median / 1000;
    const rows: string[][] = [['', 'time', `ratio vs tft 1 thread`, `ratio vs tft ${cores} threads`]];
    rows.push(['tft-native, 1 thread (median)', fmt(t1), '1', '']);
    rows.push([`tft-native, ${cores} threads (median)`, fmt(tn), '', '1']);
    rows.push([`tft-native, ${cores} threads (first call)`, fmt(all.first / 1000), '', '']);
    if (ref.pandas_s !== undefined) {
      rows.push([
        'pandas DataFrame.corr(kendall)',
        fmt(ref.pandas_s),
        `${(ref.pandas_s / t1).toFixed(0)}×`,
        `${(ref.pandas_s / tn).toFixed(0)}×`,
      ]);
    }
    const scipyLabel = ref.scipy_loop_extrapolated_from_pairs
      ? `scipy kendalltau loop (extrapolated from ${ref.scipy_loop_extrapolated_from_pairs} pairs)`
      : 'scipy kendalltau loop';
    rows.push([scipyLabel, fmt(ref.scipy_loop_s), `${(ref.scipy_loop_s / t1).toFixed(0)}×`, `${(ref.scipy_loop_s / tn).toFixed(0)}×`]);
    const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) process.stdout.write('  ' + r.map((v, c) => (c === 0 ? v.padEnd(w[c]!) : v.padStart(w[c]!))).join('   ') + '\n');
    if (ref.max_abs_diff_vs_pandas !== undefined)
      process.stdout.write(`  max |tft − pandas| = ${ref.max_abs_diff_vs_pandas.toExponential(2)}\n`);
    if (ref.max_abs_diff_vs_scipy !== undefined)
      process.stdout.write(`  max |tft − scipy|  = ${ref.max_abs_diff_vs_scipy.toExponential(2)}\n`);
    process.stdout.write('\n');
  }
  setNumThreads(cores);
}

await main();
