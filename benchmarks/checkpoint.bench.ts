/**
 * `npm run bench:checkpoint [-- --processes N]`: CheckpointManager.load (schema, sha256 of every file,
 * metadata digest, header against the config's parameters, model build, weights) plus the first predict,
 * at the reference config (F=64, dHidden=64, 4 heads, T=63, 30 assets), against the 100 ms goal (the
 * seed's target is < 1 s).
 *
 * What a server does when it starts: each measurement is a fresh process (default 10) that imports the
 * package, loads the addon, then loads the checkpoint and predicts once. The addon load (libtorch and the
 * tft-native .node) is timed apart, and together with the rest as the cold time. The same steps repeated
 * inside one process are reported as the warm figure.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printMachine } from './machine.js';
import { intFlag, median, sorted } from './stats.js';

const F = 64;
const D = 64;
const HEADS = 4;
const T = 63;
const ASSETS = 30;

interface ChildTimes {
  importMs: number;
  addonMs: number;
  loadMs: number;
  predictMs: number;
}

/** One fresh process: every step timed from the first line of this module. */
async function child(dir: string): Promise<void> {
  const t0 = performance.now();
  const lib = await import('../lib/index.js');
  const t1 = performance.now();
  lib.capabilities(); // loads the addon (libtorch, the .node file)
  const t2 = performance.now();
  const loaded = await new lib.CheckpointManager(path.dirname(path.dirname(dir))).load(dir);
  const t3 = performance.now();
  loaded.model.predict({ x: new Float32Array(T * F).map((_, i) => Math.sin(i)), batch: 1, entityIds: [3] });
  const t4 = performance.now();
  loaded.model.dispose();
  const times: ChildTimes = { importMs: t1 - t0, addonMs: t2 - t1, loadMs: t3 - t2, predictMs: t4 - t3 };
  process.stdout.write(JSON.stringify(times) + '\n');
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

const stat = (xs: number[]) => `best ${sorted(xs)[0]!.toFixed(1)} ms, median ${median(xs).toFixed(1)} ms`;

async function parent(processes: number): Promise<void> {
  const lib = await import('../lib/index.js');
  const load0 = loadavg()[0]!;
  const root = mkdtempSync(path.join(tmpdir(), 'tft-ckpt-bench-'));
  const model = lib.TFTModel.create({ nFeatures: F, dHidden: D, nHeads: HEADS, seqLen: T, nEntities: ASSETS, seed: 1 });
  const names = Array.from({ length: F }, (_, i) => `f${i}`);
  const dir = await new lib.CheckpointManager(root).save(
    model,
    {
      modelType: 'tft',
      featureNames: names,
      nAssets: ASSETS,
      assetNames: Array.from({ length: ASSETS }, (_, i) => `A${i}`),
      normalization: { names, means: names.map(() => 0), stds: names.map(() => 1) },
    },
    { gitCommit: null },
  );

  // Fresh processes, one after another (in parallel they would measure contention instead).
  const runs: ChildTimes[] = [];
  for (let i = 0; i < processes; i++) runs.push(await runChild(dir));

  // Warm: the same steps repeated in this process.
  const x = new Float32Array(T * F).map((_, i) => Math.sin(i));
  const warm: number[] = [];
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    const loaded = await new lib.CheckpointManager(root).load(dir);
    loaded.model.predict({ x, batch: 1, entityIds: [3] });
    warm.push(performance.now() - t0);
    loaded.model.dispose();
  }
  const load1 = loadavg()[0]!;

  const w = (s: string) => process.stdout.write(s + '\n');
  w(
    `checkpoint bench: F=${F}, dHidden=${D}, ${HEADS} heads, T=${T}, ${ASSETS} assets, ${model.numParameters.toLocaleString()} parameters; goal: load + first predict <= 100 ms`,
  );
  w(
    `checkpoint bench: machine: ${cpus().length} cores, 1-minute load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end` +
      (Math.max(load0, load1) > cpus().length / 2 ? ' (other work was running: expect slower figures)' : ''),
  );
  w(
    `checkpoint bench: fresh process, load + first predict (addon loaded): ${stat(runs.map((r) => r.loadMs + r.predictMs))} over ${processes} processes`,
  );
  w(
    `checkpoint bench: fresh process, of which load: ${stat(runs.map((r) => r.loadMs))}; first predict: ${stat(runs.map((r) => r.predictMs))}`,
  );
  w(`checkpoint bench: fresh process, addon load (libtorch + .node): ${stat(runs.map((r) => r.addonMs))}`);
  w(
    `checkpoint bench: fresh process, cold (addon load + load + first predict): ${stat(runs.map((r) => r.addonMs + r.loadMs + r.predictMs))}`,
  );
  w(
    `checkpoint bench: fresh process, import of the package (TypeScript through tsx, before the addon): ${stat(runs.map((r) => r.importMs))}`,
  );
  w(
    `checkpoint bench: warm, same process, load + first predict: ${stat(warm)} over ${warm.length} loads (first ${warm[0]!.toFixed(1)} ms)`,
  );
  model.dispose();
  rmSync(root, { recursive: true, force: true });
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(argv[1]!);
else {
  printMachine();
  await parent(intFlag(argv, '--processes', 10));
}
