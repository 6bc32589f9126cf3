/**
 * Walk-forward folds by date, with a purge gap before every evaluated range.
 *
 * The last `count × testDays` days are split into consecutive out-of-sample test blocks. Before each test
 * block come a gap, a validation block (early stopping), another gap and the training range: expanding
 * (from the first usable day) or sliding (the last `trainDays` days). Windows are identified by their last
 * day; a window ending on day t reads features up to t and its labels reach t + horizon.
 *
 * The gap is the label horizon plus the longest feature lookback in the set: the last training label ends
 * before the validation range begins, validation labels end before the test range begins, and the features
 * of the first evaluated windows do not read bars a training label was computed from.
 */
import { InvalidArgumentError } from '../errors.js';

export type FoldScheme = 'expanding' | 'sliding';

export interface DayRange {
  /** First and last day index (inclusive) of window end days. */
  start: number;
  end: number;
  startDate: string;
  endDate: string;
}

export interface Fold {
  index: number;
  train: DayRange;
  validation: DayRange;
  test: DayRange;
  /** Days left out between the ranges. */
  gap: number;
}

export interface FoldPlanOptions {
  /** The calendar (ISO dates) of the panel. */
  dates: readonly string[];
  count: number;
  testDays: number;
  validationDays: number;
  scheme?: FoldScheme;
  /** Sliding scheme: training days per fold. */
  trainDays?: number;
  /** Label horizon in bars (1 for next-day returns). */
  horizon: number;
  /** Longest feature lookback in the set (from the feature catalogue). */
  maxLookback: number;
  /** Window length: the first usable window ends on maxLookback + window - 1. */
  window: number;
  /** Minimum training days per fold (default 2 × window). */
  minTrainDays?: number;
}

export function planFolds(o: FoldPlanOptions): Fold[] {
  const D = o.dates.length;
  const scheme = o.scheme ?? 'expanding';
  for (const [k, v, min] of [
    ['count', o.count, 1],
    ['testDays', o.testDays, 1],
    ['validationDays', o.validationDays, 1],
    ['horizon', o.horizon, 1],
    ['maxLookback', o.maxLookback, 0],
    ['window', o.window, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`folds.${k}: must be an integer >= ${min}, got ${v}`, `folds.${k}`);
  }
  if (scheme === 'sliding' && !(Number.isInteger(o.trainDays) && o.trainDays! >= 1)) {
    throw new InvalidArgumentError('folds.trainDays: the sliding scheme needs trainDays >= 1', 'folds.trainDays');
  }
  const gap = o.horizon + o.maxLookback;
  const firstUsable = o.maxLookback + o.window - 1;
  const minTrain = o.minTrainDays ?? 2 * o.window;
  // The last day has no next-day label, so the test blocks end on D - 1 - horizon.
  const lastTestDay = D - 1 - o.horizon;
  const folds: Fold[] = [];
  const range = (start: number, end: number): DayRange => ({ start, end, startDate: o.dates[start]!, endDate: o.dates[end]! });
  for (let k = 0; k < o.count; k++) {
    const testEnd = lastTestDay - (o.count - 1 - k) * o.testDays;
    const testStart = testEnd - o.testDays + 1;
    const validationEnd = testStart - gap - 1;
    const validationStart = validationEnd - o.validationDays + 1;
    const trainEnd = validationStart - gap - 1;
    const trainStart = scheme === 'expanding' ? firstUsable : Math.max(firstUsable, trainEnd - o.trainDays! + 1);
    if (trainEnd - trainStart + 1 < minTrain || testStart < 0) {
      throw new InvalidArgumentError(
        `folds: the panel has ${D} days, too few for ${o.count} folds of ${o.testDays} test and ${o.validationDays} validation ` +
          `days with a ${gap}-day gap (horizon ${o.horizon} + lookback ${o.maxLookback}) and ≥ ${minTrain} training days ` +
          `after a ${firstUsable}-day warm-up (fold ${k} would train on ${Math.max(0, trainEnd - trainStart + 1)} days); ` +
          'use fewer or shorter folds, a smaller feature set or more history',
        'folds',
      );
    }
    folds.push({
      index: k,
      train: range(trainStart, trainEnd),
      validation: range(validationStart, validationEnd),
      test: range(testStart, testEnd),
      gap,
    });
  }
  return folds;
}

/** The fold plan as a fixed-width table, one line per fold. */
export function formatFoldPlan(folds: readonly Fold[]): string {
  const lines = ['fold  train                      validation                 test                       gap'];
  for (const f of folds) {
    const r = (x: DayRange) => `${x.startDate}..${x.endDate}`.padEnd(27);
    lines.push(`${String(f.index).padEnd(6)}${r(f.train)}${r(f.validation)}${r(f.test)}${f.gap}`);
  }
  return lines.join('\n');
}
