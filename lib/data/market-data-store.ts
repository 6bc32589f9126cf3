/**
 * MarketDataStore: daily price panels in long format (date, symbol, close, optionally open, high, low,
 * volume) from CSV and Parquet files, read and queried through an embedded DuckDB.
 *
 * Why DuckDB: users keep years of prices in Parquet; DuckDB reads Parquet and CSV in-process, in parallel,
 * without a server, and does the sorting, de-duplication checks and range queries in SQL, so a 15-million
 * row panel never passes through JavaScript row by row.
 *
 * Reading is strict: CSV cells are read as text and parsed here (typed Parquet columns are converted), so
 * each problem is reported as a DataError naming the file, the row (the 1-based line of a CSV file,
 * header = line 1; the 1-based row of a Parquet file) and the column, instead of being coerced or
 * reported by the engine: dates exactly yyyy-mm-dd, plain decimal numbers, no repeated column, no record
 * with more or fewer fields than the header, bars with low <= open, close <= high, symbols without
 * control characters. Unsorted input is sorted, never rejected.
 *
 * This class owns the DuckDB connection and the public API; loading and validation live in
 * store/prices-table.ts, query checks in store/panel-query.ts, panel building in store/panel-assembly.ts.
 */
import { fileURLToPath } from 'node:url';

import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

import { DisposedError } from '../errors.js';
import type { PricePanel } from './price-panel.js';
import { OPTIONAL } from './store/column-mapping.js';
import { checkMinHistory } from './store/min-history.js';
import { assemblePanel, unionCalendar } from './store/panel-assembly.js';
import { resolveChunkSize, resolveQuery, type PanelChunkQuery, type PanelQuery, type ResolvedQuery } from './store/panel-query.js';
import { loadPrices, type LoadedPrices } from './store/prices-table.js';
import { resolveSources, sourceList, threadsFor, type DataFormat, type Source } from './store/source-files.js';

export type { DataFormat } from './store/source-files.js';
export { DEFAULT_MAX_FILL_DAYS, type PanelChunkQuery, type PanelQuery } from './store/panel-query.js';

export interface OpenOptions {
  /** Overrides the format inferred from the extension (.csv, .csv.gz, .tsv → csv; .parquet, .pq → parquet). */
  format?: DataFormat;
  /** DuckDB worker threads (default: 1 for inputs under 32 MB, else one per core). */
  threads?: number;
}

export interface StoreInfo {
  sources: string[];
  rows: number;
  symbols: number;
  start: string;
  end: string;
  /** Optional columns present in every source (open, high, low, volume). */
  optionalColumns: string[];
  hasOhlcv: boolean;
  /** Whether every (file, symbol) had its rows in ascending date order (the store sorts either way). */
  sortedInput: boolean;
}

/** The bundled sample: daily closes of the 30 Dow Jones stocks, 1990-12-31 … 2001-01-02 (see data/README.md). */
export function bundledDataPath(name: 'dowjones30.csv' | 'sp500_ohlcv.csv' = 'dowjones30.csv'): string {
  // lib/data/ and dist/data/ are both two levels below the package root, where data/ lives.
  return fileURLToPath(new URL(`../../data/${name}`, import.meta.url));
}

export class MarketDataStore {
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly sources: Source[],
    private readonly loaded: LoadedPrices,
  ) {}

  /** Opens one or more files (all must share the required columns); each is validated, the union sorted. */
  static async open(source: string | string[], opts: OpenOptions = {}): Promise<MarketDataStore> {
    const sources = resolveSources(source, opts.format);
    const threads = threadsFor(sources, opts.threads);
    const instance = await DuckDBInstance.create(':memory:', threads !== undefined ? { threads: String(threads) } : {});
    const conn = await instance.connect();
    try {
      return new MarketDataStore(instance, conn, sources, await loadPrices(conn, sources));
    } catch (err) {
      conn.closeSync();
      instance.closeSync();
      throw err;
    }
  }

  /** The bundled Dow Jones 30 sample, the CLI's default dataset. */
  static async bundled(): Promise<MarketDataStore> {
    return MarketDataStore.open(bundledDataPath());
  }

  private live(): DuckDBConnection {
    if (this.closed) throw new DisposedError('MarketDataStore: used after close()', 'store');
    return this.conn;
  }

  /** All symbols, sorted. */
  symbols(): string[] {
    this.live();
    return this.loaded.symbols.slice();
  }

  /** First and last date in the store (ISO). */
  dateRange(): { start: string; end: string } {
    this.live();
    return { start: this.loaded.start, end: this.loaded.end };
  }

  info(): StoreInfo {
    this.live();
    const optional = this.loaded.optional;
    return {
      sources: this.sourcePaths(),
      rows: this.loaded.rows,
      symbols: this.loaded.symbols.length,
      start: this.loaded.start,
      end: this.loaded.end,
      optionalColumns: optional.slice(),
      hasOhlcv: OPTIONAL.every((o) => optional.includes(o)),
      sortedInput: this.loaded.sortedInput,
    };
  }

  /** A panel of the selected symbols on their union calendar, with the missing-day policy applied. */
  async panel(q: PanelQuery = {}): Promise<PricePanel> {
    const query = this.resolve(q);
    const days = await unionCalendar(this.live(), query, sourceList(this.sources));
    return this.assemble(query, query.symbols, days, q.minHistory);
  }

  /**
   * The same panel in chunks of symbols, all on the calendar of the whole selection: for stores too
   * large to hold (or to build features for) at once.
   */
  async *panels(q: PanelChunkQuery = {}): AsyncGenerator<PricePanel, void, undefined> {
    const query = this.resolve(q);
    const chunk = resolveChunkSize(q);
    const days = await unionCalendar(this.live(), query, sourceList(this.sources));
    for (let i = 0; i < query.symbols.length; i += chunk) {
      yield await this.assemble(query, query.symbols.slice(i, i + chunk), days, q.minHistory);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.closeSync();
    this.instance.closeSync();
  }

  private resolve(q: PanelQuery): ResolvedQuery {
    const { symbols, start, end } = this.loaded;
    return resolveQuery(q, { symbols, start, end, sourceList: sourceList(this.sources) });
  }

  private async assemble(query: ResolvedQuery, symbols: string[], days: Int32Array, minHistory: number | undefined): Promise<PricePanel> {
    const fields = ['close' as const, ...this.loaded.optional];
    const panel = await assemblePanel(this.live(), { query, symbols, days, fields, sources: this.sourcePaths() });
    if (minHistory !== undefined) await checkMinHistory(this.live(), panel, minHistory, this.sources);
    return panel;
  }

  private sourcePaths(): string[] {
    return this.sources.map((s) => s.path);
  }
}
