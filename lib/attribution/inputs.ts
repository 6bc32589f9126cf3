/** Converting attribution options to the native call's arrays: baselines and perturbation groups. */
import { DTypeError, InvalidArgumentError, ShapeError } from '../errors.js';
import type { ModelInput } from '../model/tft-model.js';
import type { Baselines, ContextAttributionOptions } from './types.js';

export interface NativeBaselines {
  baselines?: Float32Array;
  baselineRows?: number;
  gaussianBaselines?: boolean;
}

/** Baselines as rows of [T, F]; their count against the batch is the core's to check. */
export function baselineArgs(b: Baselines | undefined, steps: number, features: number): NativeBaselines {
  if (b === undefined || b === 'zeros') return {};
  if (b === 'gaussian') return { gaussianBaselines: true };
  if (!(b instanceof Float32Array)) throw new DTypeError("baselines: must be 'zeros', 'gaussian' or a Float32Array", 'baselines');
  const row = steps * features;
  if (b.length === 0 || b.length % row !== 0)
    throw new ShapeError(`baselines: ${b.length} values is not a whole number of [T, F] = [${steps}, ${features}] rows`, 'baselines');
  return { baselines: b, baselineRows: b.length / row };
}

/** An ablation baseline: a number fills one shared row. */
export function ablationBaselineArgs(b: number | Float32Array | undefined, steps: number, features: number): NativeBaselines {
  if (typeof b === 'number') {
    if (!Number.isFinite(b)) throw new InvalidArgumentError(`baselines: must be finite, got ${b}`, 'baselines');
    return baselineArgs(new Float32Array(steps * features).fill(b), steps, features);
  }
  return baselineArgs(b, steps, features);
}

/** Group ids per (step, feature) cell, from one id per feature or one per cell; and the group count. */
export function groupArgs(groups: Int32Array | readonly number[] | undefined, steps: number, features: number) {
  if (groups === undefined) return { groups: undefined, groupCount: features };
  if (!(groups instanceof Int32Array) && !Array.isArray(groups))
    throw new DTypeError('groups: must be an Int32Array or an array of integers', 'groups');
  const ids = Int32Array.from(groups as ArrayLike<number>, (g) => {
    if (!Number.isInteger(g) || g < 0) throw new InvalidArgumentError(`groups: ids must be integers >= 0, got ${g}`, 'groups');
    return g;
  });
  let cells: Int32Array;
  if (ids.length === features) {
    cells = new Int32Array(steps * features);
    for (let t = 0; t < steps; t++) cells.set(ids, t * features);
  } else if (ids.length === steps * features) {
    cells = ids;
  } else {
    throw new ShapeError(`groups: ${ids.length} ids; expected one per feature (${features}) or per cell (${steps * features})`, 'groups');
  }
  return { groups: cells, groupCount: cells.reduce((m, g) => Math.max(m, g + 1), 0) };
}

/** The context's baselines as rows shaped like one input's context set [nContext, contextLen, F]. */
export function contextBaselineArgs(o: ContextAttributionOptions, input: ModelInput, config: { nContext: number; nFeatures: number }) {
  if (!o.contextAttributions) return {};
  const b = o.contextBaselines;
  if (b === undefined) return { contextAttributions: true };
  if (!(b instanceof Float32Array)) throw new DTypeError('contextBaselines: must be a Float32Array', 'contextBaselines');
  const row = config.nContext * (input.contextLen ?? 0) * config.nFeatures;
  if (row === 0 || b.length === 0 || b.length % row !== 0)
    throw new ShapeError(
      `contextBaselines: ${b.length} values is not a whole number of [nContext, contextLen, F] context sets`,
      'contextBaselines',
    );
  return { contextAttributions: true, contextBaselines: b, contextBaselineRows: b.length / row };
}
