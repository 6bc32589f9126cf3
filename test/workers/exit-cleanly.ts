// A whole process: addon in the main thread and in two workers at once, then a normal exit. The parent test
// checks the exit code and that nothing was printed to stderr (no abort, no leak report, no hang).
import { Worker } from 'node:worker_threads';

import { kendallTauMatrix } from '../../lib/index.js';

const run = () =>
  new Promise<unknown>((resolve, reject) => {
    const w = new Worker(new URL('./bootstrap.mjs', import.meta.url), {
      workerData: { script: new URL('./rank-in-worker.ts', import.meta.url).href },
    });
    w.once('message', resolve);
    w.once('error', reject);
  });
const data = new Float64Array(200 * 300).map((_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
const [a, b, c] = await Promise.all([run(), run(), kendallTauMatrix({ data, rows: 200, cols: 300 })]);
process.stdout.write(JSON.stringify({ ok: Boolean(a && b && c.length === 40000) }) + '\n');
