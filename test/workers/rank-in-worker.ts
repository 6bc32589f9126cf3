// Runs inside a worker_thread: loads the addon there, computes, and reports typed errors across threads.
import { parentPort } from 'node:worker_threads';

import { ShapeError, kendallTauMatrix, spearmanMatrixSync } from '../../lib/index.js';

const data = new Float64Array([1, 2, 3, 4, 4, 3, 2, 1, 1, 3, 2, 4]);
const kendall = await kendallTauMatrix({ data, rows: 3, cols: 4 });
const spearman = spearmanMatrixSync({ data, rows: 3, cols: 4 });
let typedError = '';
try {
  spearmanMatrixSync({ data, rows: 5, cols: 4 });
} catch (e) {
  typedError = e instanceof ShapeError ? `${e.name}:${e.code}` : `untyped:${String(e)}`;
}
parentPort!.postMessage({ kendall: Array.from(kendall), spearman: Array.from(spearman), typedError });
