// A whole process: workers are terminated while their native jobs are queued or running, at several
// moments; then the main thread still computes and the process exits normally. The parent test checks the
// exit code and an empty stderr (no abort, no use-after-free, no hang).
import { Worker } from 'node:worker_threads';

import { kendallTauMatrix } from '../../lib/index.js';

const kinds = (process.argv[2] ?? 'rank,model,train').split(',');
const delays = [0, 5, 40, 150];
let terminated = 0;
for (const kind of kinds) {
  for (const delay of delays) {
    const w = new Worker(new URL('./bootstrap.mjs', import.meta.url), {
      workerData: { script: new URL('./busy-worker.ts', import.meta.url).href, kind },
    });
    await new Promise<void>((resolve, reject) => {
      w.once('error', reject);
      w.on('message', (m) => {
        if (m === 'submitted') setTimeout(() => void w.terminate().then(() => resolve()), delay);
      });
    });
    terminated++;
  }
}
const data = new Float64Array(50 * 40).map((_, i) => (Math.sin(i * 7.1) * 1e4) % 1);
const tau = await kendallTauMatrix({ data, rows: 50, cols: 40 });
process.stdout.write(JSON.stringify({ terminated, ok: tau.length === 2500 && tau[0] === 1 }) + '\n');
