// Runs inside a worker_thread that the parent terminates while native jobs are queued and running: a large
// Kendall matrix, model predictions and a training epoch, all reading this worker's typed arrays.
import { parentPort, workerData } from 'node:worker_threads';

import { kendallTauMatrix, TFTModel, Trainer } from '../../lib/index.js';

const kind: string = workerData.kind;
const data = new Float64Array(1000 * 1000).map((_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
const pending: Promise<unknown>[] = [];
if (kind === 'rank') {
  for (let i = 0; i < 3; i++) pending.push(kendallTauMatrix({ data, rows: 1000, cols: 1000 }));
} else if (kind === 'model') {
  const model = TFTModel.create({ nFeatures: 32, dHidden: 32, nHeads: 4, seqLen: 63, seed: 1 });
  const x = new Float32Array(2048 * 63 * 32).map((_, i) => Math.sin(i) * 0.5);
  for (let i = 0; i < 3; i++) pending.push(model.predictBatch({ x, batch: 2048 }, { vsnWeights: true }));
} else {
  const model = TFTModel.create({ nFeatures: 16, dHidden: 32, nHeads: 4, seqLen: 42, seed: 2 });
  const assets = 8,
    days = 1500;
  const features = new Float32Array(assets * days * 16).map((_, i) => Math.sin(i * 0.37) * 0.5);
  const target = new Float32Array(assets * days).map((_, i) => Math.cos(i * 0.11) * 0.01);
  const trainer = new Trainer(model, { features, assets, days, target }, { batchSize: 64, window: 42 });
  const windows = trainer.validWindows(42, days - 2);
  pending.push(trainer.trainEpoch(windows, { shuffleSeed: 1 }));
}
// Tell the parent the jobs are submitted; it terminates this worker at a moment of its choosing.
parentPort!.postMessage('submitted');
await Promise.all(pending);
parentPort!.postMessage('finished');
