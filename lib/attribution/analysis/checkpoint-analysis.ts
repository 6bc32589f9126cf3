/**
 * A full attribution analysis of a saved model on a price panel: the windows ending on a date or in a date
 * range (all assets, or some), their features rebuilt and normalised as in training, a seeded sample of
 * them analysed by the AttributionAnalyzer. The step `tft-native explain` calls.
 */
import type { LoadedCheckpoint } from '../../checkpoint/checkpoint-manager.js';
import type { PricePanel } from '../../data/price-panel.js';
import { DataError, InvalidArgumentError } from '../../errors.js';
import { sampleDistinct, Xoshiro128 } from '../../random/index.js';
import {
  entityMap,
  historyWindows,
  normalizedFeatures,
  pricesForCheckpoint,
  windowsEnding,
  windowsInput,
  type Windows,
} from '../checkpoint-explanation.js';
import { AttributionAnalyzer, type AnalyzerOptions, type AttributionAnalysis } from './analyzer.js';

export interface CheckpointAnalysisOptions extends Omit<AnalyzerOptions, 'featureNames' | 'distribution'> {
  checkpoint: LoadedCheckpoint;
  /** The prices; default the bundled sample (the checkpoint's assets). */
  prices?: PricePanel;
  /** Windows ending on this date (YYYY-MM-DD), or between start and end (inclusive); default the last 21 days. */
  date?: string;
  start?: string;
  end?: string;
  symbols?: string[];
  /** At most this many windows, drawn with the seed (default 64). */
  samples?: number;
  /** DeepLiftShap's and GradientSHAP's baselines: windows drawn from the whole history (default 16). */
  baselineWindows?: number;
}

export interface CheckpointAnalysis extends AttributionAnalysis {
  firstDate: string;
  lastDate: string;
  symbols: string[];
  /** Where `gradientFlow` was measured: the training epoch of the checkpoint's weights (absent if not recorded). */
  gradientFlowSource?: { fold: number; phase: 'pretrain' | 'finetune'; epoch: number };
}

function dayIndex(dates: readonly string[], d: string, side: 'first' | 'last', name: string): number {
  if (!/^\d{4}-\d\d-\d\d$/.test(d)) throw new InvalidArgumentError(`${name}: must be YYYY-MM-DD, got ${d}`, name);
  // the first trading day on or after d (start), the last on or before d (end)
  if (side === 'first') {
    const i = dates.findIndex((x) => x >= d);
    return i < 0 ? dates.length : i;
  }
  for (let i = dates.length - 1; i >= 0; i--) if (dates[i]! <= d) return i;
  return -1;
}

function sampleRows(w: Windows, k: number, rowLen: number, seed: number): Windows {
  if (w.batch <= k) return w;
  const rows = sampleDistinct(w.batch, k, new Xoshiro128(seed));
  const x = new Float32Array(k * rowLen);
  rows.forEach((r, i) => x.set(w.x.subarray(r * rowLen, (r + 1) * rowLen), i * rowLen));
  const pick = (v: Int32Array) => Int32Array.from(rows, (r) => v[r]!);
  return { ...w, x, batch: k, entityIds: pick(w.entityIds), assets: pick(w.assets), ends: pick(w.ends) };
}

export async function analyzeCheckpoint(o: CheckpointAnalysisOptions): Promise<CheckpointAnalysis> {
  const model = o.checkpoint.model;
  if (o.date && (o.start || o.end)) throw new InvalidArgumentError('date: give either a date or a start/end range', 'date');
  const samples = o.samples ?? 64;
  if (!Number.isInteger(samples) || samples < 1)
    throw new InvalidArgumentError(`samples: must be an integer >= 1, got ${samples}`, 'samples');
  const prices = o.prices ?? (await pricesForCheckpoint(o.checkpoint));
  if (o.symbols) {
    const unknown = o.symbols.filter((s) => !prices.symbols.includes(s));
    if (unknown.length > 0) throw new DataError(`symbols: not in the data: ${unknown.join(', ')}`, 'symbols');
  }
  const fp = normalizedFeatures(o.checkpoint, prices);
  const T = model.config.seqLen;
  const D = fp.dates.length;
  const first = o.date ? dayIndex(fp.dates, o.date, 'first', 'date') : o.start ? dayIndex(fp.dates, o.start, 'first', 'start') : D - 21;
  const last = o.date ? dayIndex(fp.dates, o.date, 'last', 'date') : o.end ? dayIndex(fp.dates, o.end, 'last', 'end') : D - 1;
  const ids = entityMap(o.checkpoint, prices);
  const w = windowsEnding(fp, T, first, last, ids, o.symbols ? new Set(o.symbols) : undefined);
  const s = sampleRows(w, samples, T * fp.names.length, o.seed ?? 0);
  const input = windowsInput(o.checkpoint, fp, s, ids);
  const distribution = historyWindows(fp, T, o.baselineWindows ?? 16, o.seed ?? 0);
  const analyzer = new AttributionAnalyzer(model, {
    ...o,
    featureNames: fp.names,
    distribution,
    // one explain run judges dead features over its own windows
    deadFeatures: { minWindows: Math.min(200, s.batch), ...o.deadFeatures },
  });
  // Gradients need labels and a loss: the trainer measured them over the epoch these weights come from.
  const flow = o.checkpoint.metadata.trainingInfo?.gradientFlow;
  const analysis = await analyzer.analyze(input, flow ? { gradientFlow: flow.layers } : {});
  return {
    ...analysis,
    firstDate: w.firstDate,
    lastDate: w.lastDate,
    symbols: o.symbols ?? prices.symbols,
    ...(flow ? { gradientFlowSource: { fold: flow.fold, phase: flow.phase, epoch: flow.epoch } } : {}),
  };
}
