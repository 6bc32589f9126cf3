/**
 * `npm run bench:inference [-- --processes N]`: serving a checkpoint at the reference config (F=64,
 * dHidden=64, 4 heads, T=63) on the bundled Dow 30 sample (30 assets, ~10 years):
 *
 *   - a fresh process running `tft-native predict --date D --json` end to end (the built CLI in dist/ when
 *     present, else through tsx), and in fresh processes the parts: import + addon load,
 *     TFTInferencePipeline.fromCheckpoint (verify, build), first predict(date) (features for one date's
 *     lookback, normalisation, forward) — goal: the CLI <= 1 s; fromCheckpoint + first predict <= 100 ms;
 *   - predictBatch over every day of the data × 30 assets, against predict called per date (same
 *     positions): (asset, date) predictions per second — goal >= 50,000/s on 2 cores.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { printMachine } from './machine.js';
import { intFlag, median, sorted } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const F = 64;
const DATE = '2000-06-15';

const ms = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (best ${sorted(xs)[0]!.toFixed(0)})`;

/** A reference-config checkpoint on the first F catalogue features the bundled sample supports. */
async function makeCheckpoint(root: string): Promise<string> {
  const lib = await import('../lib/index.js');
  const store = await lib.MarketDataStore.bundled();
  const prices = await store.panel();
  await store.close();
  const names = new lib.FeatureBuilder({ ohlcv: false })
    .specs(false)
    .slice(0, F)
    .map((s) => s.name);
  const features = new lib.FeatureBuilder({ names, ohlcv: false }).build(prices, { allowShortHistory: true });
  const norm = lib.fitNormalization(features, { startDay: 0, endDay: prices.dates.length });
  const model = lib.TFTModel.create({ nFeatures: F, dHidden: 64, nHeads: 4, seqLen: 63, nEntities: prices.symbols.length, seed: 1 });
  const spec = lib.featureCatalogue({ names });
  const json = lib.normalizationToJSON(norm);
  const dir = await new lib.CheckpointManager(root).save(
    model,
    {
      modelType: 'tft',
      featureNames: names,
      nAssets: prices.symbols.length,
      assetNames: prices.symbols,
      normalization: json,
      inputSpec: {
        features: spec.map((s) => ({ name: s.name, group: s.group, lookback: s.lookback })),
        ohlcv: false,
        clip: 5,
        window: 63,
        targets: { volSpan: 60, sigmaTarget: 0.15, horizon: 1 },
        maxFillDays: 5,
        positionSizing: { maxPosition: 1, volTarget: null, smoothing: 0 },
      },
    },
    { gitCommit: null },
  );
  model.dispose();
  return dir;
}

interface ChildTimes {
  importMs: number;
  loadMs: number;
  predictMs: number;
}

async function child(dir: string): Promise<void> {
  const t0 = performance.now();
  const lib = await import('../lib/index.js');
  lib.capabilities();
  const store = await lib.MarketDataStore.bundled();
  const t1 = performance.now();
  const p = await lib.TFTInferencePipeline.fromCheckpoint(dir);
  const t2 = performance.now();
  await p.predict(DATE, store);
  const t3 = performance.now();
  p.dispose();
  await store.close();
  process.stdout.write(JSON.stringify({ importMs: t1 - t0, loadMs: t2 - t1, predictMs: t3 - t2 }) + '\n');
}

function runChild(dir: string): Promise<ChildTimes> {
  return new Promise((resolve, reject) => {
    const k = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    k.stdout.on('data', (d: Buffer) => (out += d.toString()));
    k.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as ChildTimes) : reject(new Error(`child exited ${code}`))));
  });
}

function timeCli(dir: string): { ms: number; how: string } {
  const built = path.join(ROOT, 'dist/cli/main.js');
  const [cmd, args, how] = existsSync(built)
    ? [process.execPath, [built], 'dist/cli/main.js (built)']
    : [process.execPath, ['--import', 'tsx', path.join(ROOT, 'lib/cli/main.ts')], 'lib/cli/main.ts through tsx (no build in dist/)'];
  const t0 = performance.now();
  execFileSync(cmd, [...args, 'predict', '--checkpoint', dir, '--date', DATE, '--json'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, TFT_NATIVE_CLI: '1' },
  });
  return { ms: performance.now() - t0, how };
}

async function parent(processes: number): Promise<void> {
  const lib = await import('../lib/index.js');
  lib.setNumThreads(2);
  const root = mkdtempSync(path.join(tmpdir(), 'tft-inference-bench-'));
  const dir = await makeCheckpoint(root);
  const w = (s: string) => process.stdout.write(s + '\n');

  const cli: number[] = [];
  let how = '';
  for (let i = 0; i < processes; i++) {
    const r = timeCli(dir);
    cli.push(r.ms);
    how = r.how;
  }
  const parts: ChildTimes[] = [];
  for (let i = 0; i < processes; i++) parts.push(await runChild(dir));

  const store = await lib.MarketDataStore.bundled();
  const p = await lib.TFTInferencePipeline.fromCheckpoint(dir);
  const dates = await p.calendar(store);
  await p.predictBatch({ start: dates[300]!, end: dates[320]! }, store); // warm-up
  const t0 = performance.now();
  const b = await p.predictBatch({ start: dates[0]!, end: dates.at(-1)! }, store);
  const batchS = (performance.now() - t0) / 1000;
  const served = b.positions.reduce((n, v) => n + (Number.isFinite(v) ? 1 : 0), 0);
  const perDates = dates.slice(-20);
  const t1 = performance.now();
  let perServed = 0;
  let worst = 0;
  for (const d of perDates) {
    const r = await p.predict(d, store);
    perServed += r.symbols.length;
    const t = b.dates.indexOf(d);
    r.symbols.forEach(
      (s, i) => (worst = Math.max(worst, Math.abs(r.positions[i]! - b.positions[b.symbols.indexOf(s) * b.dates.length + t]!))),
    );
  }
  const perS = (performance.now() - t1) / 1000;
  p.dispose();
  await store.close();

  w(
    `inference bench: F=${F}, dHidden=64, 4 heads, T=63, ${b.symbols.length} assets, ${dates.length} trading days (${dates[0]} … ${dates.at(-1)}), 2 threads`,
  );
  w(
    `  fresh process, \`tft-native predict --date ${DATE} --json\` end to end via ${how}: ${ms(cli)} over ${processes} runs (goal <= 1000 ms)`,
  );
  w(
    `  fresh process parts: import + addon + opening the store ${ms(parts.map((x) => x.importMs))}; fromCheckpoint ${ms(parts.map((x) => x.loadMs))}; first predict(date) ${ms(parts.map((x) => x.predictMs))}`,
  );
  w(`  fromCheckpoint + first predict: ${ms(parts.map((x) => x.loadMs + x.predictMs))} (goal <= 100 ms)`);
  const batchRate = served / batchS;
  const perRate = perServed / perS;
  w(
    `  predictBatch over every day: ${served.toLocaleString()} (asset, date) positions in ${batchS.toFixed(2)} s = ${Math.round(batchRate).toLocaleString()}/s (goal >= 50,000/s)`,
  );
  // The physical limit: each position is one rolling window, none of whose LSTM can be shared.
  const flops = lib.rollingFlops(lib.resolveConfig({ nFeatures: F, dHidden: 64, nHeads: 4, seqLen: 63, nEntities: b.symbols.length }));
  const gflops = lib.measureSgemmGflops();
  const ceiling = (gflops * 1e9) / (flops.perWindow + flops.perDay);
  w(
    `    FLOP ceiling: ${(flops.perWindow / 1e6).toFixed(2)} MFLOP per window + ${(flops.perDay / 1e6).toFixed(2)} per day; sgemm ${gflops.toFixed(0)} GFLOP/s -> at most ${Math.round(ceiling).toLocaleString()} positions/s on this machine; predictBatch reaches ${((100 * batchRate) / ceiling).toFixed(0)}%`,
  );
  w(
    `  predict per date (${perDates.length} dates): ${Math.round(perRate).toLocaleString()}/s — predictBatch is ${(batchRate / perRate).toFixed(0)}× faster; max |difference| ${worst.toExponential(1)}`,
  );
  rmSync(root, { recursive: true, force: true });
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(argv[1]!);
else {
  printMachine();
  await parent(intFlag(argv, '--processes', 5));
}
