/**
 * The (asset, day) rows a fold's selection may read: every asset on the days of its training range whose
 * label also ends inside the range (day d's label is the return to d + horizon). Nothing later than the
 * training end enters, which is what keeps a fold's selection free of look-ahead.
 */
import type { FeaturePanel } from '../data/feature-builder.js';
import type { DesignMatrix } from './statistics.js';

export interface TrainingRows extends DesignMatrix {
  data: Float32Array;
  /** The label of each row (NaN where undefined). */
  y: Float64Array;
}

export interface TrainingRowsOptions {
  /** First and last day (inclusive) of the training range. */
  start: number;
  end: number;
  horizon: number;
  /** Column indices into the panel (default: every feature). */
  columns?: readonly number[];
  /** Keep at most this many rows, evenly spaced in (asset, day) order. */
  maxRows?: number;
}

export function trainingRows(panel: FeaturePanel, target: Float32Array, o: TrainingRowsOptions): TrainingRows {
  const D = panel.dates.length;
  const F = panel.names.length;
  const cols = o.columns ?? panel.names.map((_, i) => i);
  const last = o.end - o.horizon;
  const perAsset = Math.max(0, last - o.start + 1);
  const total = perAsset * panel.symbols.length;
  const rows = o.maxRows !== undefined ? Math.min(total, o.maxRows) : total;
  const G = cols.length;
  const data = new Float32Array(rows * G);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const k = rows === total ? r : Math.floor((r * total) / rows);
    const cell = Math.floor(k / perAsset) * D + o.start + (k % perAsset);
    for (let j = 0; j < G; j++) data[r * G + j] = panel.values[cell * F + cols[j]!]!;
    y[r] = target[cell]!;
  }
  return { data, rows, cols: G, y };
}
