/**
 * A daily price panel: symbols aligned on one trading calendar, every field a symbol-major typed array.
 *
 * Layout: field[s * days + t] is symbol s on calendar day t. Symbol-major because every feature is a
 * per-symbol time-series computation; one symbol's history is then one contiguous subarray.
 *
 * Missing-day policy (applied by MarketDataStore, documented in docs/data.md): the calendar is the union of
 * the dates on which any selected symbol has a row. Inside a symbol's own span (first to last observation)
 * a day without a row is forward filled from the last observed close for at most `maxFillDays`
 * consecutive calendar days; the fill never starts before the first observation and never runs past the
 * last one. Days beyond the limit are NaN with listed = 0. Filling only the first days of a long gap
 * (rather than blanking the whole gap) keeps the policy causal: on day t nobody knows how long a gap
 * will last.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';

export interface PricePanel {
  symbols: string[];
  /** ISO yyyy-mm-dd, ascending: the union trading calendar of the selected symbols. */
  dates: string[];
  /** [symbols × days], symbol-major; NaN where listed = 0. */
  close: Float64Array;
  open?: Float64Array;
  high?: Float64Array;
  low?: Float64Array;
  volume?: Float64Array;
  /** 1 where the symbol has a row that day or is forward filled within the limit. */
  listed: Uint8Array;
  /** 1 where the values were forward filled (a day without a row inside the fill limit). */
  filled: Uint8Array;
  /** open, high, low and volume are all present. */
  hasOhlcv: boolean;
  /** The files the panel was read from, so later errors (too little history) can name them. */
  sources?: string[];
}

/** Per-symbol description of how complete a panel is (what `tft-native data info` prints). */
export interface SymbolCoverage {
  symbol: string;
  /** First and last calendar day with a row, or null when the symbol has none in the panel. */
  first: string | null;
  last: string | null;
  /** Days with a row of their own. */
  observed: number;
  /** Days forward filled within the limit. */
  filled: number;
  /** Days inside the symbol's span left NaN because a gap exceeded the fill limit. */
  unfilled: number;
  /** Longest run of consecutive days without a row inside the span. */
  longestGap: number;
}

/** Checks that every array has the length symbols × dates; a panel assembled by hand is checked here. */
export function validatePricePanel(panel: PricePanel): void {
  const S = panel.symbols.length;
  const D = panel.dates.length;
  const n = S * D;
  const fields: [string, ArrayLike<number> | undefined][] = [
    ['close', panel.close],
    ['listed', panel.listed],
    ['filled', panel.filled],
    ['open', panel.open],
    ['high', panel.high],
    ['low', panel.low],
    ['volume', panel.volume],
  ];
  for (const [name, arr] of fields) {
    if (arr === undefined) continue;
    if (arr.length !== n) {
      throw new ShapeError(`panel.${name}: has ${arr.length} values, expected symbols × days = ${S} × ${D} = ${n}`, name);
    }
  }
  if (panel.hasOhlcv && !(panel.open && panel.high && panel.low && panel.volume)) {
    throw new InvalidArgumentError('panel.hasOhlcv is true but open, high, low or volume is missing', 'hasOhlcv');
  }
  for (let i = 1; i < D; i++) {
    if (!(panel.dates[i - 1]! < panel.dates[i]!)) {
      throw new InvalidArgumentError(`panel.dates: not strictly ascending at index ${i} (${panel.dates[i - 1]} then ${panel.dates[i]})`, 'dates');
    }
  }
}

/** Coverage of each symbol: observed, filled and unfilled days and the longest gap. */
export function panelCoverage(panel: PricePanel): SymbolCoverage[] {
  const D = panel.dates.length;
  return panel.symbols.map((symbol, s) => {
    const base = s * D;
    let first = -1;
    let last = -1;
    for (let t = 0; t < D; t++) {
      if (panel.listed[base + t] && !panel.filled[base + t]) {
        if (first < 0) first = t;
        last = t;
      }
    }
    let observed = 0;
    let filled = 0;
    let unfilled = 0;
    let gap = 0;
    let longestGap = 0;
    if (first >= 0) {
      for (let t = first; t <= last; t++) {
        const isObserved = panel.listed[base + t] === 1 && panel.filled[base + t] === 0;
        if (isObserved) {
          observed++;
          gap = 0;
        } else {
          if (panel.filled[base + t]) filled++;
          else unfilled++;
          gap++;
          if (gap > longestGap) longestGap = gap;
        }
      }
    }
    return {
      symbol,
      first: first >= 0 ? panel.dates[first]! : null,
      last: last >= 0 ? panel.dates[last]! : null,
      observed,
      filled,
      unfilled,
      longestGap,
    };
  });
}

/** Longest run of consecutive listed days of each symbol: the history a feature with a lookback can use. */
export function longestListedRun(panel: PricePanel): Int32Array {
  const D = panel.dates.length;
  const out = new Int32Array(panel.symbols.length);
  for (let s = 0; s < panel.symbols.length; s++) {
    let run = 0;
    let best = 0;
    for (let t = 0; t < D; t++) {
      run = panel.listed[s * D + t] ? run + 1 : 0;
      if (run > best) best = run;
    }
    out[s] = best;
  }
  return out;
}
