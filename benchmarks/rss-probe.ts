// Child process of model.bench.ts: peak RSS of one predictBatch B=4096 at the reference config.
// argv[2] = chunkSize (0 = the default memory-bounded chunking).
import { TFTModel } from '../lib/index.js';
import { peakRssMiB } from './peak-rss.js';

const chunk = Number(process.argv[2] ?? 0);
const model = TFTModel.create({ nFeatures: 64, dHidden: 64, nHeads: 4, seqLen: 63, seed: 1 });
const B = 4096;
const x = new Float32Array(B * 63 * 64).map((_, i) => Math.sin(i * 0.37));
await model.predictBatch({ x: x.subarray(0, 63 * 64), batch: 1 });
const baseline = peakRssMiB();
await model.predictBatch({ x, batch: B }, chunk > 0 ? { chunkSize: chunk } : {});
const peak = peakRssMiB();
process.stdout.write(JSON.stringify({ baselineMiB: baseline, peakMiB: peak, inputMiB: x.byteLength / 2 ** 20 }) + '\n');
