/** Summaries of a [B, T, F] attribution tensor, in float64. */
import { ShapeError } from '../errors.js';

/** [F] mean |a| over inputs and steps. */
export function featureImportance(a: Float32Array, batch: number, steps: number, features: number): Float64Array {
  const out = new Float64Array(features);
  const rows = batch * steps;
  for (let r = 0; r < rows; r++) for (let f = 0; f < features; f++) out[f]! += Math.abs(a[r * features + f]!);
  if (rows > 0) for (let f = 0; f < features; f++) out[f]! /= rows;
  return out;
}

/** [T] mean over inputs of Σ_f |a|. */
export function stepImportance(a: Float32Array, batch: number, steps: number, features: number): Float64Array {
  const out = new Float64Array(steps);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < steps; t++) {
      let s = 0;
      const base = (b * steps + t) * features;
      for (let f = 0; f < features; f++) s += Math.abs(a[base + f]!);
      out[t]! += s;
    }
  if (batch > 0) for (let t = 0; t < steps; t++) out[t]! /= batch;
  return out;
}

/** Feature names ordered by decreasing importance (ties by name), with their scores. */
export function rankFeatures(importance: Float64Array, names: readonly string[]): { feature: string; importance: number }[] {
  if (names.length !== importance.length)
    throw new ShapeError(`names: ${names.length} names for ${importance.length} importances`, 'names');
  return names
    .map((feature, i) => ({ feature, importance: importance[i]! }))
    .sort((x, y) => y.importance - x.importance || (x.feature < y.feature ? -1 : x.feature > y.feature ? 1 : 0));
}
