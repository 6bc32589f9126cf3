/**
 * `npm run bench:model`: the native model against the PyTorch reference (reference/tft_reference.py) as users
 * write it (per-variable GRN loop) and with a batched VSN ("optimised PyTorch"), in one run, on the same
 * inputs and weights, with the same thread count. Reference config: F=64, T=63, dHidden=64, 4 heads, 1 LSTM
 * layer. Prints throughput, latency, rolling windows/s, ratios, sgemm GFLOP/s with the model's achieved
 * fraction, and the peak RSS of predictBatch B=4096 with and without chunking.
 *
 *   --python P   reference interpreter (default /usr/bin/python3)   --no-python   native numbers only
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { TFTModel, forwardFlops, getNumThreads, measureSgemmGflops, resolveConfig } from '../lib/index.js';
import { randn } from '../test/helpers/random.js';
import { printMachine } from './machine.js';

const args = process.argv.slice(2);
const python = args.includes('--python') ? args[args.indexOf('--python') + 1]! : '/usr/bin/python3';
const ROOT = path.resolve(import.meta.dirname, '..');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  printMachine();
  const config = resolveConfig({ nFeatures: 64, dHidden: 64, nHeads: 4, lstmLayers: 1, seqLen: 63, dropout: 0.1, seed: 1 });
  const { nFeatures: F, seqLen: T } = config;
  const threads = getNumThreads();
  const model = TFTModel.create(config);
  const dir = mkdtempSync(path.join(tmpdir(), 'tft-model-bench-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  await model.saveWeights(path.join(dir, 'weights.safetensors'));

  const B = 512;
  const x = randn(B * T * F, 7);
  writeFileSync(path.join(dir, 'batch.f32'), x);
  const A = 30;
  const D = 2500;
  const panel = randn(A * D * F, 8);
  writeFileSync(path.join(dir, 'panel.f32'), panel);
  writeFileSync(
    path.join(dir, 'plan.json'),
    JSON.stringify({ assets: A, days: D, batch: B, chunk: 64, reps: 3, latency_reps: 50, rolling_windows: 512 }),
  );

  // --- native --------------------------------------------------------------------------------------
  const first = await model.predictBatch({ x, batch: B });
  writeFileSync(path.join(dir, 'native_position.f32'), first.position);
  const batchTimes: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    await model.predictBatch({ x, batch: B });
    batchTimes.push((performance.now() - t0) / 1000);
  }
  const seqPerS = B / median(batchTimes);
  const one = x.subarray(0, T * F);
  for (let i = 0; i < 20; i++) model.predict({ x: one, batch: 1 });
  const lat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    model.predict({ x: one, batch: 1 });
    lat.push((performance.now() - t0) / 1000);
  }
  const latency = median(lat);
  const rollTimes: number[] = [];
  for (let r = 0; r < 2; r++) {
    const t0 = performance.now();
    await model.predictRolling({ values: panel, assets: A, days: D });
    rollTimes.push((performance.now() - t0) / 1000);
  }
  const windows = A * (D - T + 1);
  const windowsPerS = windows / median(rollTimes);
  const sgemm = measureSgemmGflops(1024, 10);
  const flops = forwardFlops(config);

  // --- peak RSS, in fresh processes ------------------------------------------------------------------
  const probe = (chunk: number) =>
    JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'benchmarks/rss-probe.ts'), String(chunk)], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    ) as { baselineMiB: number; peakMiB: number; inputMiB: number };
  const chunked = probe(0);
  const unchunked = probe(4096);

  // --- PyTorch reference -------------------------------------------------------------------------------
  let ref: Record<string, number> | undefined;
  if (!args.includes('--no-python')) {
    process.stdout.write('running the PyTorch reference (loop-style VSN is slow: a minute or two)…\n');
    ref = JSON.parse(
      execFileSync(python, [path.join(ROOT, 'reference/bench/model_reference.py'), dir, '--threads', String(threads)], {
        encoding: 'utf8',
      }),
    );
  }

  const out = (s: string) => process.stdout.write(s + '\n');
  out(
    `\ntft-native model benchmark — F=${F}, T=${T}, dHidden=${config.dHidden}, heads=${config.nHeads}, LSTM layers=${config.lstmLayers}, ${threads} thread(s)`,
  );
  out(
    `model FLOPs per sequence (last-step outputs): ${(flops.straightforward / 1e6).toFixed(1)} M as written, ${(flops.executed / 1e6).toFixed(1)} M executed after VSN folding\n`,
  );
  const rows: string[][] = [['', 'tft-native', 'PyTorch loop VSN', 'ratio', 'PyTorch batched VSN', 'ratio']];
  const r = (a: number, b?: number) => (b ? `${(a / b).toFixed(1)}×` : '–');
  rows.push([
    `predictBatch B=${B} (seq/s)`,
    seqPerS.toFixed(0),
    ref ? ref.loop_batch_seq_per_s!.toFixed(1) : '–',
    r(seqPerS, ref?.loop_batch_seq_per_s),
    ref ? ref.batched_batch_seq_per_s!.toFixed(1) : '–',
    r(seqPerS, ref?.batched_batch_seq_per_s),
  ]);
  rows.push([
    'predict B=1 latency (ms)',
    (latency * 1000).toFixed(2),
    ref ? (ref.loop_latency_s! * 1000).toFixed(2) : '–',
    ref ? r(ref.loop_latency_s!, latency) : '–',
    ref ? (ref.batched_latency_s! * 1000).toFixed(2) : '–',
    ref ? r(ref.batched_latency_s!, latency) : '–',
  ]);
  rows.push([
    `predictRolling ${A}×${D} (windows/s)`,
    windowsPerS.toFixed(0),
    ref ? ref.loop_rolling_windows_per_s!.toFixed(1) : '–',
    r(windowsPerS, ref?.loop_rolling_windows_per_s),
    ref ? ref.batched_rolling_windows_per_s!.toFixed(1) : '–',
    r(windowsPerS, ref?.batched_rolling_windows_per_s),
  ]);
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) out('  ' + row.map((v, c) => (c === 0 ? v.padEnd(w[c]!) : v.padStart(w[c]!))).join('   '));
  if (ref) {
    out(
      `  (PyTorch, both variants: the same ${ref.loop_batch_sequences} sequences and ${ref.loop_rolling_windows} rolling windows (every window of one asset), in chunks of ${ref.chunk}, median of 3 runs after a warm-up)`,
    );
    out(
      `  max |tft-native − PyTorch| on the B=${B} positions: loop ${ref.loop_max_abs_diff_positions!.toExponential(2)}, batched ${ref.batched_max_abs_diff_positions!.toExponential(2)}`,
    );
  }
  const achieved = (flops.executed * seqPerS) / 1e9;
  out(`\n  sgemm (1024², ${threads} threads): ${sgemm.toFixed(1)} GFLOP/s`);
  out(
    `  predictBatch achieved: ${achieved.toFixed(1)} GFLOP/s executed = ${((100 * achieved) / sgemm).toFixed(0)}% of sgemm ` +
      `(${((flops.straightforward * seqPerS) / 1e9).toFixed(1)} GFLOP/s in as-written FLOPs)`,
  );
  out(`  rolling: ${(windowsPerS / seqPerS).toFixed(1)}× the windows/s of predictBatch, from computing each day's VSN once`);
  out(
    `\n  peak RSS, predictBatch B=4096 (input ${chunked.inputMiB.toFixed(0)} MiB): chunked ${(chunked.peakMiB - chunked.baselineMiB).toFixed(0)} MiB above baseline, ` +
      `unchunked ${(unchunked.peakMiB - unchunked.baselineMiB).toFixed(0)} MiB`,
  );
}

await main();
