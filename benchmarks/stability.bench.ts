/**
 * `npm run bench:stability`: 1,000 snapshots × 300 features in one group, written to a temporary store,
 * then read back and analysed from the files (listing, JSON parsing and validation included). Every metric
 * is exact over all pairs by default: top-k overlap, Kendall tau-b and weighted tau (native), RBO (eq. 32),
 * Nogueira stability, selection frequencies. Also: the opt-in sampled weighted tau / RBO, smaller groups
 * for the scaling, and the cost of each part. Three repetitions each; best and median are printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  RboEvaluator,
  SnapshotStore,
  analyzeGroup,
  capabilities,
  kendallTauMatrix,
  rankPositions,
  rboMatrix,
  rboPForTopK,
  topKJaccardMatrix,
  weightedTauMatrix,
  type Snapshot,
} from '../lib/index.js';
import { printMachine } from './machine.js';

capabilities();
printMachine();
const base = mkdtempSync(path.join(tmpdir(), 'tft-stab-bench-'));
const store = new SnapshotStore(base);
const n = 300;
const names = Array.from({ length: n }, (_, i) => `feature_${i}`);
let s = 1;
const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
const truth = names.map(() => -Math.log(rnd()));
const write0 = performance.now();
for (let r = 0; r < 1000; r += 50) {
  await Promise.all(
    Array.from({ length: 50 }, (_, j) =>
      store.save({
        targetName: 'fwd_ret_21d',
        method: 'lightgbm',
        features: names,
        importances: truth.map((v) => v * Math.exp(0.3 * (rnd() - 0.5))),
        seed: r + j,
      }),
    ),
  );
}
const writeS = (performance.now() - write0) / 1000;

const stats = (xs: number[]) => {
  const t = [...xs].sort((a, b) => a - b);
  return `best ${t[0]!.toFixed(3)} s, median ${t[Math.floor(t.length / 2)]!.toFixed(3)} s`;
};

async function timed(label: string, m: number, samplePairs?: number): Promise<void> {
  const total: number[] = [];
  const read: number[] = [];
  let report;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    const { snapshots } = await store.list({ targetName: 'fwd_ret_21d', method: 'lightgbm' });
    const t1 = performance.now();
    report = await analyzeGroup(snapshots.slice(0, m), { topK: 20, samplePairs });
    total.push((performance.now() - t0) / 1000);
    read.push((t1 - t0) / 1000);
  }
  const r = report!;
  process.stdout.write(
    `${label}: ${stats(total)} (reading 1,000 files: ${stats(read)}); ` +
      `Kendall ${r.kendallTau.mean.toFixed(3)} over ${r.kendallTau.pairs} pairs, weighted tau ${r.weightedTau.mean.toFixed(4)} and RBO ${r.rbo.mean.toFixed(4)} over ${r.weightedTau.pairs}${r.weightedTau.sampled ? ' sampled' : ''} pairs, Nogueira ${r.nogueira.value.toFixed(3)}\n`,
  );
}

await timed('1,000 snapshots × 300 features, files read, exact (default)', 1000);
await timed('same, weighted tau and RBO on 5,000 sampled pairs (opt-in)', 1000, 5000);
await timed('500 snapshots, exact', 500);
await timed('250 snapshots, exact', 250);

// Where the time goes at 1,000 × 300: each native kernel alone, and RBO over every pair.
const { snapshots } = await store.list({ targetName: 'fwd_ret_21d', method: 'lightgbm' });
const col = new Map(names.map((f, i) => [f, i]));
const data = new Float64Array(1000 * n);
snapshots.forEach((snap: Snapshot, r) => snap.features.forEach((f, i) => (data[r * n + col.get(f)!] = snap.importances[i]!)));
const input = { data, rows: 1000, cols: n };
for (const [label, run] of [
  ['Kendall tau-b matrix', () => kendallTauMatrix(input)],
  ['weighted tau matrix', () => weightedTauMatrix(input)],
  ['top-20 Jaccard matrix', () => topKJaccardMatrix(input, 20)],
  ['RBO matrix (native, what the analysis runs)', () => rboMatrix(input, rboPForTopK(20))],
] as const) {
  const times: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
  }
  process.stdout.write(`  ${label}, 1,000 × 300: ${stats(times)}\n`);
}
const rboTimes: number[] = [];
for (let rep = 0; rep < 3; rep++) {
  const t0 = performance.now();
  const ranked = snapshots.map((snap: Snapshot) => Int32Array.from(snap.features, (f) => col.get(f)!));
  const positions = ranked.map((r) => rankPositions(r, n));
  const rbo = new RboEvaluator(rboPForTopK(20));
  let sum = 0;
  for (let i = 0; i < 1000; i++) for (let j = i + 1; j < 1000; j++) sum += rbo.pair(positions[i]!, positions[j]!, n, n);
  rboTimes.push((performance.now() - t0) / 1000);
  if (!(sum > 0)) throw new Error('RBO sum');
}
process.stdout.write(
  `  RBO over all 499,500 pairs in TypeScript (RboEvaluator, the sampled path's evaluator), 1,000 × 300: ${stats(rboTimes)}\n`,
);
process.stdout.write(`(writing the 1,000 snapshots took ${writeS.toFixed(2)} s)\n`);
rmSync(base, { recursive: true, force: true });
