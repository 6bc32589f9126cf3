/**
 * Builds the catalogue's features for a PricePanel into one [symbols, days, features] Float32Array.
 *
 * Row-major [S, D, F] so that the window of symbol s over days [a, b) is one contiguous subarray
 * (featureWindow): training windows and predictRolling read views, never copies.
 *
 * Causal by construction: every feature is a left-to-right rolling computation whose value at t reads bars
 * t - lookback … t only (rolling.ts explains how that holds bit for bit); the test suite perturbs prices
 * after t and checks that nothing at or before t moves.
 *
 * Cost: O(S · D · F) with a few hundred O(D) passes per symbol; memory S · D · F · 4 bytes for the output
 * (3,000 symbols × 5,040 days × 292 features = 17.7 GB: too much for one array, hence buildSymbols, which
 * yields symbol chunks of bounded size).
 */
import { DataError, InvalidArgumentError, OutOfMemoryError, OutOfRangeError } from '../errors.js';
import { maxLookback, selectDefinitions, type CatalogueOptions, type FeatureSpec } from './feature-catalogue.js';
import type { FeatureDefinition } from './feature-families.js';
import { longestListedRun, validatePricePanel, type PricePanel } from './price-panel.js';
import { Scratch } from './rolling.js';
import { ArrayPool, SeriesContext } from './series-context.js';

export interface FeaturePanel {
  symbols: string[];
  dates: string[];
  names: string[];
  groups: string[];
  /** Exact lookback of each feature (catalogue values). */
  lookbacks: Int32Array;
  /** [symbols, days, features] row-major; NaN where not computable (warm-up, gaps, unlisted days). */
  values: Float32Array;
  /** max(lookbacks): the warm-up after which every feature of a fully listed symbol is defined. */
  maxLookback: number;
}

export interface FeatureBuilderOptions {
  groups?: string[];
  names?: string[];
  /**
   * true: include OHLCV features (the panel must have them); false: close-only; 'auto' (default): the
   * OHLCV features are included when the panel has open/high/low/volume. With explicit groups or names,
   * 'auto' includes what was asked for and fails if the panel cannot supply it.
   */
  ohlcv?: boolean | 'auto';
}

export interface BuildOptions {
  /**
   * By default a symbol whose longest run of listed days is shorter than maxLookback + 1 is an error
   * (no feature set would ever be complete for it). true builds it anyway, leaving its values NaN.
   */
  allowShortHistory?: boolean;
}

export interface BuildSymbolsOptions extends BuildOptions {
  /** Symbols per chunk (default 64). */
  chunkSize?: number;
}

/** View of symbol s's features over days [startDay, endDay): ((endDay - startDay) × features), no copy. */
export function featureWindow(fp: FeaturePanel, symbol: number, startDay: number, endDay: number): Float32Array {
  const D = fp.dates.length;
  const F = fp.names.length;
  if (!Number.isInteger(symbol) || symbol < 0 || symbol >= fp.symbols.length) {
    throw new OutOfRangeError(`symbol index ${symbol} outside [0, ${fp.symbols.length})`, 'symbol');
  }
  if (!Number.isInteger(startDay) || !Number.isInteger(endDay) || startDay < 0 || endDay > D || startDay > endDay) {
    throw new OutOfRangeError(`day range [${startDay}, ${endDay}) outside [0, ${D}]`, 'startDay');
  }
  return fp.values.subarray((symbol * D + startDay) * F, (symbol * D + endDay) * F);
}

/**
 * dst[offset + t·F + f] = src[f·D + t]. Row by row of the destination: F strided reads per day stay in
 * cache (F ≤ a few hundred), and the long inner loop gets optimised early; a tiled version measured
 * slower on a cold start.
 */
function transpose(src: Float32Array, F: number, D: number, dst: Float32Array, offset: number): void {
  for (let t = 0; t < D; t++) {
    const o = offset + t * F;
    for (let f = 0; f < F; f++) dst[o + f] = src[f * D + t]!;
  }
}

/**
 * Copies one feature series into its row of the feature-major buffer. Unlisted days and non-finite
 * results (a ratio that overflowed) are "not computable": NaN. A function of its own so the optimiser
 * compiles this loop once, instead of recompiling the caller around whichever feature ran first.
 */
function store(out: Float64Array, listed: Uint8Array, dst: Float32Array, row: number): void {
  const D = out.length;
  for (let t = 0; t < D; t++) {
    const v = out[t]!;
    dst[row + t] = listed[t] !== 0 && Number.isFinite(v) ? v : Number.NaN;
  }
}

function allocate(n: number): Float32Array {
  try {
    return new Float32Array(n);
  } catch (err) {
    throw new OutOfMemoryError(`cannot allocate ${n} float32 values (${(n * 4) / 2 ** 30} GiB) for the feature panel; use buildSymbols with a smaller chunkSize (${(err as Error).message})`);
  }
}

export class FeatureBuilder {
  private readonly opts: FeatureBuilderOptions;

  constructor(opts: FeatureBuilderOptions = {}) {
    const ohlcv = opts.ohlcv ?? 'auto';
    if (ohlcv !== 'auto' && typeof ohlcv !== 'boolean') throw new InvalidArgumentError(`ohlcv must be true, false or 'auto'`, 'ohlcv');
    this.opts = { ...opts, ohlcv };
    // Fail on unknown groups or names now rather than at the first build.
    selectDefinitions(this.catalogueOptions(true));
  }

  private catalogueOptions(panelHasOhlcv: boolean): CatalogueOptions {
    const { groups, names, ohlcv } = this.opts;
    const explicit = groups !== undefined || names !== undefined;
    const useOhlcv = ohlcv === 'auto' ? (explicit ? true : panelHasOhlcv) : (ohlcv ?? true);
    const o: CatalogueOptions = { ohlcv: useOhlcv };
    if (groups) o.groups = groups;
    if (names) o.names = names;
    return o;
  }

  private definitions(panel: PricePanel): FeatureDefinition[] {
    const defs = selectDefinitions(this.catalogueOptions(panel.hasOhlcv));
    if (!panel.hasOhlcv) {
      const needing = defs.filter((d) => d.spec.needsOhlcv);
      if (needing.length > 0) {
        const from = panel.sources?.length ? ` (${panel.sources.join(', ')})` : '';
        throw new DataError(
          `the panel${from} has no open/high/low/volume columns, but ${needing.length} requested features need them (first: '${needing[0]!.spec.name}'); use close-only features (ohlcv: false)`,
          'ohlcv',
        );
      }
    }
    return defs;
  }

  /** The specs this builder produces for a panel with (or without) OHLCV, in column order. */
  specs(panelHasOhlcv: boolean): FeatureSpec[] {
    const defs = selectDefinitions(this.catalogueOptions(panelHasOhlcv));
    if (!panelHasOhlcv && defs.some((d) => d.spec.needsOhlcv)) {
      throw new InvalidArgumentError('the selection contains OHLCV features; a close-only panel cannot supply them', 'ohlcv');
    }
    return defs.map((d) => ({ ...d.spec }));
  }

  /** All symbols at once. */
  build(panel: PricePanel, opts: BuildOptions = {}): FeaturePanel {
    validatePricePanel(panel);
    const defs = this.definitions(panel);
    this.checkHistory(panel, defs, opts);
    return this.buildRange(panel, defs, 0, panel.symbols.length);
  }

  /**
   * The same features as build(), in chunks of chunkSize symbols, each its own FeaturePanel: peak memory
   * chunkSize × days × features × 4 bytes however many symbols the panel has.
   */
  *buildSymbols(panel: PricePanel, opts: BuildSymbolsOptions = {}): Generator<FeaturePanel, void, undefined> {
    const chunk = opts.chunkSize ?? 64;
    if (!Number.isInteger(chunk) || chunk < 1) throw new InvalidArgumentError(`chunkSize must be a positive integer, got ${chunk}`, 'chunkSize');
    validatePricePanel(panel);
    const defs = this.definitions(panel);
    this.checkHistory(panel, defs, opts);
    for (let s0 = 0; s0 < panel.symbols.length; s0 += chunk) {
      yield this.buildRange(panel, defs, s0, Math.min(panel.symbols.length, s0 + chunk));
    }
  }

  private checkHistory(panel: PricePanel, defs: FeatureDefinition[], opts: BuildOptions): void {
    if (opts.allowShortHistory) return;
    const need = maxLookback(defs.map((d) => d.spec)) + 1;
    const runs = longestListedRun(panel);
    for (let s = 0; s < panel.symbols.length; s++) {
      if (runs[s]! < need) {
        const from = panel.sources?.length ? `${panel.sources.join(', ')}: ` : '';
        throw new DataError(
          `${from}symbol '${panel.symbols[s]}' (column 'symbol'): too little history for the requested features: its longest run of listed days is ${runs[s]}, they need ${need} (max lookback ${need - 1} + 1); select fewer or shorter features, a longer date range, or pass allowShortHistory`,
          panel.symbols[s],
        );
      }
    }
  }

  private buildRange(panel: PricePanel, defs: FeatureDefinition[], s0: number, s1: number): FeaturePanel {
    const D = panel.dates.length;
    const F = defs.length;
    const S = s1 - s0;
    const total = S * D * F;
    const values = allocate(total);
    const out = new Float64Array(D);
    // Features are computed one whole series at a time into a feature-major buffer, then transposed once
    // per symbol.
    const byFeature = new Float32Array(F * D);
    const scratch = new Scratch(D);
    const pool = new ArrayPool(D);
    const view = (a: Float64Array | undefined, s: number): Float64Array | undefined => (a ? a.subarray(s * D, (s + 1) * D) : undefined);
    for (let s = s0; s < s1; s++) {
      const ctx = new SeriesContext(
        { close: view(panel.close, s)!, open: view(panel.open, s), high: view(panel.high, s), low: view(panel.low, s), volume: view(panel.volume, s) },
        scratch,
        pool,
      );
      const listed = panel.listed.subarray(s * D, (s + 1) * D);
      for (let f = 0; f < F; f++) {
        out.fill(Number.NaN);
        defs[f]!.compute(ctx, out);
        store(out, listed, byFeature, f * D);
      }
      ctx.release();
      transpose(byFeature, F, D, values, (s - s0) * D * F);
    }
    const specs = defs.map((d) => d.spec);
    return {
      symbols: panel.symbols.slice(s0, s1),
      dates: panel.dates.slice(),
      names: specs.map((x) => x.name),
      groups: specs.map((x) => x.group),
      lookbacks: Int32Array.from(specs.map((x) => x.lookback)),
      values,
      maxLookback: maxLookback(specs),
    };
  }
}
