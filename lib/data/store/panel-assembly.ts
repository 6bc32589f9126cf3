/**
 * Turning rows of the prices table into a PricePanel: the selection's union calendar, dense
 * symbol-major arrays, and the missing-day policy (forward fill of up to maxFill days as flat bars).
 */
import { listValue, type DuckDBConnection, type DuckDBVector } from '@duckdb/node-api';

import { DataError, InvalidArgumentError } from '../../errors.js';
import type { PricePanel } from '../price-panel.js';
import type { NumericField } from './column-mapping.js';
import { dayToIso } from './iso-days.js';
import type { ResolvedQuery } from './panel-query.js';

/** The rows to assemble and how: a chunk of the query's symbols on the calendar of the whole query. */
export interface PanelSpec {
  query: ResolvedQuery;
  symbols: string[];
  days: Int32Array;
  /** 'close' first, then the store's optional columns. */
  fields: NumericField[];
  sources: string[];
}

interface Bars {
  close: Float64Array;
  open: Float64Array | undefined;
  high: Float64Array | undefined;
  low: Float64Array | undefined;
  volume: Float64Array | undefined;
}

/** The union calendar (days since 1970-01-01) of the selected symbols within [start, end]; DataError when empty. */
export async function unionCalendar(conn: DuckDBConnection, q: ResolvedQuery, sourceList: string): Promise<Int32Array> {
  const r = await conn.runAndReadAll(
    `SELECT DISTINCT (d - DATE '1970-01-01')::INTEGER AS day FROM prices
     WHERE symbol IN (SELECT unnest($1::VARCHAR[])) AND d BETWEEN $2::DATE AND $3::DATE ORDER BY day`,
    [listValue(q.symbols), q.start, q.end],
  );
  const days = Int32Array.from((r.getColumnsJS()[0] ?? []).map(Number));
  if (days.length === 0) throw new DataError(`${sourceList}: no rows for the selected symbols between ${q.start} and ${q.end}`, 'date');
  return days;
}

/**
 * The values of a result vector as a typed array. node-api exposes values one getItem() call at a time
 * (about 60 ns each: seconds for a 15-million-row store), while its numeric vectors hold them in a typed
 * array over DuckDB's own buffer; that array is used when it is there with the expected type and length,
 * else the values are copied out item by item. Validity masks can be ignored: the store's table has no
 * NULLs (every cell was validated on open).
 */
function columnValues<T extends Int32Array | Float64Array>(vec: DuckDBVector, n: number, kind: { new (n: number): T }): T {
  const items = (vec as unknown as { items?: unknown }).items;
  if (items instanceof kind && items.length === n) return items as T;
  const out = new kind(n);
  for (let r = 0; r < n; r++) out[r] = Number(vec.getItem(r));
  return out;
}

/**
 * Reads the selected rows into NaN-initialised arrays, one per field, and marks the observed cells.
 * DuckDB computes each row's flat index (symbol · days + calendar position), so JavaScript only scatters
 * values: no per-row map lookups for 15 million rows.
 */
async function scatterRows(conn: DuckDBConnection, spec: PanelSpec): Promise<{ arrays: Float64Array[]; observed: Uint8Array }> {
  const { symbols, days, fields, query } = spec;
  const size = symbols.length * days.length;
  const arrays = fields.map(() => new Float64Array(size).fill(Number.NaN));
  const observed = new Uint8Array(size);
  const res = await conn.run(
    `WITH sel AS (SELECT unnest($1::VARCHAR[]) AS symbol, generate_subscripts($1::VARCHAR[], 1) - 1 AS i),
          cal AS (SELECT unnest($4::INTEGER[]) AS day, generate_subscripts($4::INTEGER[], 1) - 1 AS k)
     SELECT (sel.i * ${days.length} + cal.k)::INTEGER, ${fields.map((f) => `p.${f}`).join(', ')}
     FROM prices p JOIN sel USING (symbol) JOIN cal ON cal.day = (p.d - DATE '1970-01-01')::INTEGER
     WHERE p.d BETWEEN $2::DATE AND $3::DATE`,
    [listValue(symbols), query.start, query.end, listValue(Array.from(days))],
  );
  for (;;) {
    const chunk = await res.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    const idx = columnValues(chunk.getColumnVector(0), n, Int32Array);
    for (let r = 0; r < n; r++) observed[idx[r]!] = 1;
    for (let k = 0; k < fields.length; k++) {
      const vals = columnValues(chunk.getColumnVector(1 + k), n, Float64Array);
      const dst = arrays[k]!;
      for (let r = 0; r < n; r++) dst[idx[r]!] = vals[r]!;
    }
  }
  return { arrays, observed };
}

function barsOf(fields: NumericField[], arrays: Float64Array[]): Bars {
  const at = (f: NumericField): Float64Array | undefined => {
    const k = fields.indexOf(f);
    return k >= 0 ? arrays[k] : undefined;
  };
  return { close: arrays[0]!, open: at('open'), high: at('high'), low: at('low'), volume: at('volume') };
}

/** A filled day is a day without trading: the price stands still, the bar is flat, volume is 0. */
function flatBar(bars: Bars, i: number, price: number): void {
  bars.close[i] = price;
  if (bars.open) bars.open[i] = price;
  if (bars.high) bars.high[i] = price;
  if (bars.low) bars.low[i] = price;
  if (bars.volume) bars.volume[i] = 0;
}

/** First and last observed calendar position of the symbol whose row starts at `base`; -1 when none. */
function observedSpan(observed: Uint8Array, base: number, D: number): { first: number; last: number } {
  let first = -1;
  let last = -1;
  for (let t = 0; t < D; t++) {
    if (!observed[base + t]) continue;
    if (first < 0) first = t;
    last = t;
  }
  return { first, last };
}

/** Marks listed days and forward fills gaps of up to maxFill days, in place; returns the listed and filled masks. */
function fillMissingDays(bars: Bars, observed: Uint8Array, S: number, D: number, q: ResolvedQuery): { listed: Uint8Array; filled: Uint8Array } {
  const listed = new Uint8Array(S * D);
  const filled = new Uint8Array(S * D);
  for (let s = 0; s < S; s++) {
    const base = s * D;
    const { first, last } = observedSpan(observed, base, D);
    if (first < 0) continue;
    let gap = 0;
    let prev = Number.NaN;
    const end = q.fillAfterLast ? D - 1 : last;
    for (let t = first; t <= end; t++) {
      const i = base + t;
      if (observed[i]) {
        listed[i] = 1;
        gap = 0;
        prev = bars.close[i]!;
        continue;
      }
      if (++gap > q.maxFill) continue;
      listed[i] = 1;
      filled[i] = 1;
      flatBar(bars, i, prev);
    }
  }
  return { listed, filled };
}

function toPricePanel(spec: PanelSpec, bars: Bars, masks: { listed: Uint8Array; filled: Uint8Array }): PricePanel {
  const { open, high, low, volume } = bars;
  const panel: PricePanel = {
    symbols: spec.symbols.slice(),
    dates: Array.from(spec.days, dayToIso),
    close: bars.close,
    listed: masks.listed,
    filled: masks.filled,
    hasOhlcv: Boolean(open && high && low && volume),
    sources: spec.sources,
  };
  if (open) panel.open = open;
  if (high) panel.high = high;
  if (low) panel.low = low;
  if (volume) panel.volume = volume;
  return panel;
}

export async function assemblePanel(conn: DuckDBConnection, spec: PanelSpec): Promise<PricePanel> {
  const S = spec.symbols.length;
  const D = spec.days.length;
  if (S * D > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`${S} symbols × ${D} days is too large for one panel; use panels({ chunkSize })`, 'symbols');
  }
  const { arrays, observed } = await scatterRows(conn, spec);
  const bars = barsOf(spec.fields, arrays);
  return toPricePanel(spec, bars, fillMissingDays(bars, observed, S, D, spec.query));
}
