/**
 * Inputs repeated for perturbation metrics: each sequence's row (with its entity id and context set) n
 * times in a row (Captum's repeat_interleave), so one native job covers every perturbed copy.
 */
import type { ModelInput } from '../../model/tft-model.js';

function repeatRows(src: Float32Array, rowLength: number, batch: number, n: number): Float32Array {
  const out = new Float32Array(batch * n * rowLength);
  for (let b = 0; b < batch; b++) {
    const row = src.subarray(b * rowLength, (b + 1) * rowLength);
    for (let k = 0; k < n; k++) out.set(row, (b * n + k) * rowLength);
  }
  return out;
}

function repeatIds(ids: Int32Array | readonly number[], perRow: number, batch: number, n: number): Int32Array {
  const out = new Int32Array(batch * n * perRow);
  for (let b = 0; b < batch; b++)
    for (let k = 0; k < n; k++) for (let j = 0; j < perRow; j++) out[(b * n + k) * perRow + j] = ids[b * perRow + j]!;
  return out;
}

/** The input with every sequence repeated n times (x, entity ids, context and its ids alike). */
export function repeatInput(input: ModelInput, n: number, steps: number, features: number): ModelInput {
  const B = input.batch;
  const out: ModelInput = { x: repeatRows(input.x, steps * features, B, n), batch: B * n, steps };
  if (input.entityIds) out.entityIds = repeatIds(input.entityIds, 1, B, n);
  if (input.context && input.contextLen) {
    const perRow = input.context.length / Math.max(1, B);
    out.context = repeatRows(input.context, perRow, B, n);
    out.contextLen = input.contextLen;
    if (input.contextEntityIds) out.contextEntityIds = repeatIds(input.contextEntityIds, input.contextEntityIds.length / B, B, n);
  }
  return out;
}
