/**
 * `npm run bench:stability`: 1,000 snapshots × 300 features in one group, written to a temporary store,
 * then analysed from the files (reading included): top-k overlap, Kendall tau-b (all pairs, native), weighted
 * tau and RBO (all pairs up to 5,000, then a seeded sample), Nogueira stability, selection frequencies.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { SnapshotStore, analyzeGroup, capabilities } from '../lib/index.js';

capabilities();
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
      store.save({ targetName: 'fwd_ret_21d', method: 'lightgbm', features: names, importances: truth.map((v) => v * Math.exp(0.3 * (rnd() - 0.5))), seed: r + j }),
    ),
  );
}
const writeS = (performance.now() - write0) / 1000;
for (const [label, m] of [
  ['1,000 snapshots', 1000],
  ['100 snapshots (all pairs exact)', 100],
] as const) {
  const times: number[] = [];
  let report;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    const { snapshots } = await store.list({ targetName: 'fwd_ret_21d', method: 'lightgbm' });
    report = await analyzeGroup(snapshots.slice(0, m), { topK: 20 });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(
    `${label} × ${n} features, files read included: median ${(times[1]! / 1000).toFixed(3)} s ` +
      `(Kendall ${report!.kendallTau.mean.toFixed(3)} over ${report!.kendallTau.pairs} pairs, weighted tau over ${report!.weightedTau.pairs}${report!.weightedTau.sampled ? ' sampled' : ''} pairs, Nogueira ${report!.nogueira.value.toFixed(3)})\n`,
  );
}
process.stdout.write(`(writing the 1,000 snapshots took ${writeS.toFixed(2)} s)\n`);
