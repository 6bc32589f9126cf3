/**
 * `npm run bench:training`: training throughput (windows per second through forward, Sharpe loss, backward,
 * clipping and an Adam step) at the reference config (F=64, T=63, dHidden=64, 4 heads, 1 LSTM layer,
 * batch 64, dropout 0.1), side by side with the PyTorch reference trained on the same windows from the same
 * initial weights with the same thread count. The FLOP limit is printed for scale.
 *
 *   --python P   reference interpreter (default /usr/bin/python3)   --no-python   native numbers only
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { TFTModel, Trainer, WindowSet, forwardFlops, getNumThreads, measureSgemmGflops, resolveConfig } from '../lib/index.js';
import { randn } from '../test/helpers/random.js';
import { printMachine } from './machine.js';

const args = process.argv.slice(2);
const python = args.includes('--python') ? args[args.indexOf('--python') + 1]! : '/usr/bin/python3';
const ROOT = path.resolve(import.meta.dirname, '..');

async function main() {
  printMachine();
  const config = resolveConfig({ nFeatures: 64, dHidden: 64, nHeads: 4, lstmLayers: 1, seqLen: 63, dropout: 0.1, seed: 1 });
  const threads = getNumThreads();
  const A = 8;
  const D = 600;
  const F = config.nFeatures;
  const features = randn(A * D * F, 3);
  const target = randn(A * D, 4).map((v) => v * 0.01);
  const dir = mkdtempSync(path.join(tmpdir(), 'tft-train-bench-'));
  const model = TFTModel.create(config);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  await model.saveWeights(path.join(dir, 'weights.safetensors'));
  writeFileSync(path.join(dir, 'features.f32'), features);
  writeFileSync(path.join(dir, 'target.f32'), target);
  const trainer = new Trainer(model, { features, assets: A, days: D, target }, { batchSize: 64, warmupSteps: 10, learningRate: 1e-3 });
  const windows = trainer.validWindows(0, D - 1).sample(1024, 5);
  writeFileSync(path.join(dir, 'windows.i32'), windows.pairs);
  // Every side trains on the same first 256 windows (4 steps of 64); tft-native also on all 1,024.
  const SAME = 256;
  writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ assets: A, days: D, batch: 64, warmup: 10, windows: SAME }));
  const same = new WindowSet(windows.pairs.slice(0, 2 * SAME));

  await trainer.trainEpoch(windows.sample(128, 9)); // warm-up: caches, thread pools
  const sameTimes: number[] = [];
  for (let r = 0; r < 3; r++) {
    const e = await trainer.trainEpoch(same, { shuffleSeed: 10 + r });
    sameTimes.push(e.seconds);
  }
  const sameWps = SAME / [...sameTimes].sort((a, b) => a - b)[1]!;
  const epoch = await trainer.trainEpoch(windows, { shuffleSeed: 1 });
  const nativeWps = epoch.windows / epoch.seconds;
  const sgemm = measureSgemmGflops(1024, 10);
  // forward (all steps) + backward ≈ 3 × forward FLOPs of the as-written architecture
  const trainFlops = 3 * forwardFlops(config).straightforward;
  const flopLimit = (sgemm * 1e9) / trainFlops;

  let ref: Record<string, number> | undefined;
  if (!args.includes('--no-python')) {
    process.stdout.write('training the PyTorch reference on the same windows (loop-style VSN is slow: a minute or two)…\n');
    ref = JSON.parse(
      execFileSync(python, [path.join(ROOT, 'reference/bench/training_reference.py'), dir, '--threads', String(threads)], {
        encoding: 'utf8',
      }),
    );
  }
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`\ntft-native training benchmark — F=64, T=63, dHidden=64, 4 heads, 1 LSTM layer, batch 64, dropout 0.1, ${threads} thread(s)`);
  out(`  tft-native:               ${sameWps.toFixed(1)} windows/s  (the same ${SAME} windows, median of 3 epochs)`);
  out(
    `                            ${nativeWps.toFixed(1)} windows/s  (an epoch of ${epoch.windows} windows, ${epoch.steps} steps, ${epoch.seconds.toFixed(2)} s)`,
  );
  if (ref) {
    out(
      `  PyTorch loop-style VSN:   ${ref.loop_windows_per_s!.toFixed(1)} windows/s  (the same ${ref.loop_windows} windows)  → tft-native ${(sameWps / ref.loop_windows_per_s!).toFixed(1)}×`,
    );
    out(
      `  PyTorch batched VSN:      ${ref.batched_windows_per_s!.toFixed(1)} windows/s  (the same ${ref.batched_windows} windows)  → tft-native ${(sameWps / ref.batched_windows_per_s!).toFixed(1)}×`,
    );
  }
  out(
    `  FLOP limit: sgemm ${sgemm.toFixed(0)} GFLOP/s / (3 × ${(forwardFlops(config).straightforward / 1e6).toFixed(0)} MFLOP per window) ≈ ${flopLimit.toFixed(0)} windows/s`,
  );
  trainer.dispose();
  model.dispose();
}

await main();
