/**
 * Out-of-sample positions of a trained fold: rolling prediction over every window ending in the test
 * range. An X-Trend model (nContext > 0) predicts in blocks of contextRefreshDays, each with one context
 * set of sequences that end before the block's first window starts, so no context is later than what it
 * predicts.
 *
 * The native trainer samples the context sets (which sequences); their features are gathered here, the
 * one place in JS that does so, because the model's rolling prediction takes a context set as features.
 */
import type { FoldSession } from './fold-session.js';
import type { WindowSet } from './trainer.js';

export interface PanelDims {
  assets: number;
  days: number;
  features: number;
}

/** [assets, days] positions, NaN outside the test range and where a window had a non-finite feature. */
export async function predictTestPositions(session: FoldSession, dims: PanelDims, contextRefreshDays: number): Promise<Float32Array> {
  const { assets: A, days: D } = dims;
  const { fold, model, trainer, window: T, entityIds } = session;
  const position = new Float32Array(A * D).fill(Number.NaN);
  const hasContext = model.config.nContext > 0;
  const block = hasContext ? contextRefreshDays : fold.test.end - fold.test.start + 1;
  const L = trainer.contextLength;
  for (let b0 = fold.test.start; b0 <= fold.test.end; b0 += block) {
    const b1 = Math.min(fold.test.end, b0 + block - 1);
    const first = Math.max(0, b0 - T + 1);
    const context = hasContext ? gatherContext(session.features, dims, trainer.sampleContext(b0 - T + 1, b0), L) : undefined;
    const n = b1 - first + 1;
    const rolled = await model.predictRolling(
      { values: sliceDays(session.features, dims, first, b1), assets: A, days: n },
      {
        window: T,
        skipNonFinite: true,
        entityIds,
        ...(context && { context: context.values, contextLen: L, contextEntityIds: entityIds ? context.entityIds : undefined }),
      },
    );
    // Days before b0 only warm the block's first windows up: their positions belong to the block before.
    for (let a = 0; a < A; a++) position.set(rolled.position.subarray(a * n + (b0 - first), (a + 1) * n), a * D + b0);
  }
  return position;
}

/** The features of a context set's sequences, [size, L, F], and each sequence's asset. */
export function gatherContext(
  values: Float32Array,
  dims: PanelDims,
  set: WindowSet,
  L: number,
): { values: Float32Array; entityIds: Int32Array } {
  const { days: D, features: F } = dims;
  const out = new Float32Array(set.size * L * F);
  const entityIds = new Int32Array(set.size);
  for (let k = 0; k < set.size; k++) {
    const asset = set.pairs[2 * k]!;
    const last = set.pairs[2 * k + 1]!;
    out.set(values.subarray((asset * D + last - L + 1) * F, (asset * D + last + 1) * F), k * L * F);
    entityIds[k] = asset;
  }
  return { values: out, entityIds };
}

/** A copy of days [start, end] of every asset: [A, end - start + 1, F]. */
export function sliceDays(values: Float32Array, dims: PanelDims, start: number, end: number): Float32Array {
  const { assets: A, days: D, features: F } = dims;
  const n = end - start + 1;
  const out = new Float32Array(A * n * F);
  for (let a = 0; a < A; a++) out.set(values.subarray((a * D + start) * F, (a * D + end + 1) * F), a * n * F);
  return out;
}
