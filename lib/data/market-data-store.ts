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
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';

import { DuckDBInstance, listValue, type DuckDBConnection, type DuckDBVector } from '@duckdb/node-api';

import { DataError, DisposedError, InvalidArgumentError, IoError, NotFoundError } from '../errors.js';
import { longestListedRun, type PricePanel } from './price-panel.js';

export type DataFormat = 'csv' | 'parquet';

export interface OpenOptions {
  /** Overrides the format inferred from the extension (.csv, .csv.gz, .tsv → csv; .parquet, .pq → parquet). */
  format?: DataFormat;
  /** DuckDB worker threads (default: 1 for inputs under 32 MB, else one per core). */
  threads?: number;
}

export interface PanelQuery {
  /** Symbols in the order wanted (default: all, sorted). Unknown symbols throw NotFoundError. */
  symbols?: string[];
  /** First and last calendar day, ISO yyyy-mm-dd, inclusive (default: the whole store). */
  start?: string;
  end?: string;
  /** Consecutive calendar days a missing close is forward filled, inside the symbol's span (default 5). */
  maxFillDays?: number;
  /**
   * Also fill (up to maxFillDays) after the symbol's last row (default true). Whether a day is "after the
   * last row" depends on rows that come later, so `false` looks ahead at the end of a symbol's history;
   * the default keeps the panel strictly causal (a panel read up to day t is a prefix of the full one), so
   * training and live serving see the same bars, at the price of showing a delisted symbol as listed,
   * flat, for maxFillDays days.
   */
  fillAfterLast?: boolean;
  /**
   * Fail (DataError naming the file, the symbol's rows and column) when a symbol's longest run of listed
   * days is shorter than this: e.g. FeatureBuilder's maxLookback + 1.
   */
  minHistory?: number;
}

export interface PanelChunkQuery extends PanelQuery {
  /** Symbols per yielded panel (default 256). */
  chunkSize?: number;
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

export const DEFAULT_MAX_FILL_DAYS = 5;

const SMALL_INPUT_BYTES = 32 * 2 ** 20;
const COMPRESS_ROWS = 1_000_000;

const REQUIRED = ['date', 'symbol', 'close'] as const;
const OPTIONAL = ['open', 'high', 'low', 'volume'] as const;
type Field = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];
type NumericField = 'close' | 'open' | 'high' | 'low' | 'volume';

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

interface Source {
  path: string;
  format: DataFormat;
}

/** The bundled sample: daily closes of the 30 Dow Jones stocks, 1990-12-31 … 2001-01-02 (see data/README.md). */
export function bundledDataPath(name: 'dowjones30.csv' | 'sp500_ohlcv.csv' = 'dowjones30.csv'): string {
  // lib/data/ and dist/data/ are both two levels below the package root, where data/ lives.
  return fileURLToPath(new URL(`../../data/${name}`, import.meta.url));
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

function inferFormat(path: string): DataFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (/\.(csv|tsv|txt)(\.gz)?$/.test(lower)) return 'csv';
  throw new InvalidArgumentError(`${path}: cannot infer the format from the extension '${extname(path)}'; pass { format: 'csv' | 'parquet' }`, 'source');
}

function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function checkIsoDate(s: string, name: string): void {
  if (!ISO_DATE.test(s) || Number.isNaN(Date.parse(`${s}T00:00:00Z`)) || dayToIso(Date.parse(`${s}T00:00:00Z`) / DAY_MS) !== s) {
    throw new InvalidArgumentError(`${name}: '${s}' is not an ISO date yyyy-mm-dd`, name);
  }
}

/** The lines of a text file; DuckDB reads .gz transparently, and so must every re-read of a CSV here. */
function textLines(path: string) {
  const raw = createReadStream(path);
  const input = path.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  return createInterface({ input, crlfDelay: Infinity });
}

/**
 * Physical 1-based line numbers of CSV data records (0-based, header excluded). DuckDB skips blank lines
 * and keeps no line numbers, so the error path re-reads the file; a quoted field spanning lines is
 * followed by counting quotes.
 */
async function csvRecordLines(path: string, records: number[]): Promise<Map<number, number>> {
  const wanted = new Set(records);
  const out = new Map<number, number>();
  const rl = textLines(path);
  let line = 0;
  let rec = -1; // -1: the header
  let inQuote = false;
  let started = false;
  try {
    for await (const text of rl) {
      line++;
      if (!inQuote) {
        if (text.trim() === '') continue;
        if (started) rec++;
        started = true;
        if (rec >= 0 && wanted.has(rec)) {
          out.set(rec, line);
          if (out.size === wanted.size) break;
        }
      }
      for (const ch of text) if (ch === '"') inQuote = !inQuote;
    }
  } finally {
    rl.close();
  }
  return out;
}

/** Reads column names and types of a source as DuckDB sees it. */
async function describe(conn: DuckDBConnection, scan: string): Promise<{ name: string; type: string }[]> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${scan}`);
  return r.getRowsJS().map((row) => ({ name: String(row[0]), type: String(row[1]) }));
}

function scanOf(src: Source): string {
  return src.format === 'csv'
    ? `read_csv(${sqlString(src.path)}, header = true, all_varchar = true)`
    : `read_parquet(${sqlString(src.path)}, file_row_number = true)`;
}

// CSV cells must be exactly what the docs promise: dates yyyy-mm-dd (no time part, no other separators),
// numbers in plain decimal or exponent notation (no digit separators such as 1_000, no hex; inf and nan
// parse so that they are reported as not finite). DuckDB's casts accept more, so a text cell is cast only
// when it matches.
const DATE_TEXT = `'[0-9]{4}-[0-9]{2}-[0-9]{2}'`;
const NUMBER_TEXT = `'(?i)[+-]?(([0-9]+([.][0-9]*)?|[.][0-9]+)(e[+-]?[0-9]+)?|inf|infinity|nan)'`;

/** Parses a text column (CSV) or converts a typed one (Parquet); NULL where it does not parse. */
function dateExpr(col: string, type: string): string {
  if (type === 'VARCHAR') return `CASE WHEN regexp_full_match(trim(${col}), ${DATE_TEXT}) THEN TRY_CAST(trim(${col}) AS DATE) END`;
  if (type === 'DATE' || type.startsWith('TIMESTAMP')) return `CAST(${col} AS DATE)`;
  return `TRY_CAST(CAST(${col} AS VARCHAR) AS DATE)`;
}

function numExpr(col: string, type: string): string {
  if (type === 'VARCHAR') return `CASE WHEN regexp_full_match(trim(${col}), ${NUMBER_TEXT}) THEN TRY_CAST(trim(${col}) AS DOUBLE) END`;
  return `TRY_CAST(${col} AS DOUBLE)`;
}

/** The first non-blank line of a (possibly gzipped) text file. */
async function firstLine(path: string): Promise<string> {
  const rl = textLines(path);
  try {
    for await (const text of rl) if (text.trim() !== '') return text;
  } finally {
    rl.close();
  }
  return '';
}

/** Fields of one CSV line, splitting on `delim` outside double quotes. */
function csvFieldCount(line: string, delim: string): number {
  let n = 1;
  let q = false;
  for (const ch of line) {
    if (ch === '"') q = !q;
    else if (ch === delim && !q) n++;
  }
  return n;
}

/**
 * When DuckDB could not make columns of a CSV, the usual cause is a record with more or fewer fields than
 * the header (the sniffer then gives up on the delimiter): find the first such record and name it.
 */
async function fieldCountProblem(path: string): Promise<string | undefined> {
  const header = await firstLine(path);
  // The header's most frequent candidate delimiter is the file's.
  const delim = [',', '\t', ';', '|'].sort((a, b) => csvFieldCount(header, b) - csvFieldCount(header, a))[0]!;
  const want = csvFieldCount(header, delim);
  if (want < 2) return undefined;
  const rl = textLines(path);
  let line = 0;
  let seenHeader = false;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() === '') continue;
      if (!seenHeader) {
        seenHeader = true;
        continue;
      }
      const got = csvFieldCount(text, delim);
      if (got !== want) return `row ${line}: ${got} field${got === 1 ? '' : 's'} where the header (row 1) has ${want}`;
    }
  } finally {
    rl.close();
  }
  return undefined;
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

export class MarketDataStore {
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly sources: Source[],
    private readonly optional: NumericField[],
    private readonly symbolList: string[],
    private readonly meta: { rows: number; start: string; end: string; sortedInput: boolean },
  ) {}

  /** Opens one or more files (all must share the required columns); each is validated, the union sorted. */
  static async open(source: string | string[], opts: OpenOptions = {}): Promise<MarketDataStore> {
    const paths = Array.isArray(source) ? source : [source];
    if (paths.length === 0) throw new InvalidArgumentError('source: at least one file is required', 'source');
    const sources: Source[] = paths.map((p) => {
      if (typeof p !== 'string' || p.length === 0) throw new InvalidArgumentError('source: paths must be non-empty strings', 'source');
      const abs = resolve(p);
      if (!existsSync(abs)) throw new NotFoundError(`${p}: no such file`, p);
      if (!statSync(abs).isFile()) throw new IoError(`${p}: not a regular file`, p);
      return { path: p, format: opts.format ?? inferFormat(p) };
    });
    // Small inputs read faster on one thread (parallel scans cost more to coordinate than they save);
    // large ones get every core.
    const bytes = sources.reduce((a, src) => a + statSync(resolve(src.path)).size, 0);
    const threads = opts.threads ?? (bytes < SMALL_INPUT_BYTES ? 1 : undefined);
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
      throw new InvalidArgumentError(`threads must be a positive integer, got ${threads}`, 'threads');
    }
    const instance = await DuckDBInstance.create(':memory:', threads !== undefined ? { threads: String(threads) } : {});
    const conn = await instance.connect();
    try {
      const store = await MarketDataStore.load(instance, conn, sources);
      return store;
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

  private static async load(instance: DuckDBInstance, conn: DuckDBConnection, sources: Source[]): Promise<MarketDataStore> {
    // 1. Each source as a relation `raw_i` with a record index `rec` in file order. A table built from
    //    read_csv keeps file order (preserve_insertion_order), so its rowid is the record index; Parquet
    //    gives file_row_number. Columns are then read off the relation, so the CSV is sniffed once.
    const columnMaps: Map<Field, { name: string; type: string }>[] = [];
    const recOf: string[] = [];
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i]!;
      let cols: { name: string; type: string }[];
      try {
        if (src.format === 'csv') {
          await conn.run(`CREATE TEMP TABLE raw_${i} AS SELECT * FROM ${scanOf(src)}`);
          recOf.push('rowid');
        } else {
          await conn.run(`CREATE TEMP VIEW raw_${i} AS SELECT * FROM ${scanOf(src)}`);
          recOf.push('file_row_number');
        }
        cols = await describe(conn, `raw_${i}`);
      } catch (err) {
        throw new DataError(`${src.path}: cannot be read as ${src.format.toUpperCase()}: ${(err as Error).message.split('\n')[0]}`, src.path);
      }
      const map = new Map<Field, { name: string; type: string }>();
      const known = (k: string): k is Field => (REQUIRED as readonly string[]).includes(k) || (OPTIONAL as readonly string[]).includes(k);
      // DuckDB renames a repeated CSV header (close,close or close,Close) to close_1 / Close_1: a name of
      // that form that the header line does not itself contain is a duplicate of a known column.
      const header = src.format === 'csv' ? await firstLine(resolve(src.path)) : '';
      for (const c of cols) {
        const key = c.name.trim().toLowerCase();
        const renamed = /^(.*)_\d+$/.exec(key);
        if (src.format === 'csv' && renamed && known(renamed[1]!) && !header.includes(c.name)) {
          throw new DataError(`${src.path}: row 1 (header), column '${renamed[1]}': the column appears twice`, renamed[1]);
        }
        if (known(key)) {
          if (map.has(key)) throw new DataError(`${src.path}: ${src.format === 'csv' ? 'row 1' : 'schema'}, column '${c.name}': the column appears twice`, c.name);
          map.set(key, c);
        }
      }
      if (src.format === 'csv' && REQUIRED.some((r) => !map.has(r))) {
        const problem = await fieldCountProblem(resolve(src.path));
        if (problem) throw new DataError(`${src.path}: ${problem}`, 'source');
      }
      for (const req of REQUIRED) {
        if (!map.has(req)) {
          const found = cols.filter((c) => c.name !== 'file_row_number').map((c) => c.name).join(', ');
          throw new DataError(`${src.path}: ${src.format === 'csv' ? 'row 1 (header)' : 'schema'}, column '${req}': missing required column (found: ${found})`, req);
        }
      }
      columnMaps.push(map);
    }
    const optional = OPTIONAL.filter((o) => columnMaps.every((m) => m.has(o)));
    const numeric: NumericField[] = ['close', ...optional];

    // 2. One pass per source parses every cell and classifies its problem, if any, in the cell's own
    //    type (no text conversion of every cell); all sources go, sorted, into the store's table, and
    //    the problem column is then scanned. The text of a bad cell is fetched only for the row reported.
    const nullOrBlank = (c: string, type: string): string => (type === 'VARCHAR' ? `(${c} IS NULL OR trim(${c}) = '')` : `${c} IS NULL`);
    const selects: string[] = [];
    for (let i = 0; i < sources.length; i++) {
      const m = columnMaps[i]!;
      const col = (f: Field): string => sqlIdent(m.get(f)!.name);
      const typ = (f: Field): string => m.get(f)!.type;
      const dateV = dateExpr(col('date'), typ('date'));
      const problems: string[] = [
        `WHEN ${nullOrBlank(col('date'), typ('date'))} THEN 'date|is empty'`,
        `WHEN ${dateV} IS NULL THEN 'date|cannot be parsed as a date (expected yyyy-mm-dd)'`,
        `WHEN ${dateV} < DATE '0001-01-01' THEN 'date|is before year 1'`,
        `WHEN NULLIF(trim(CAST(${col('symbol')} AS VARCHAR)), '') IS NULL THEN 'symbol|is empty'`,
        `WHEN regexp_matches(CAST(${col('symbol')} AS VARCHAR), '[[:cntrl:]]') THEN 'symbol|contains a control character'`,
      ];
      for (const f of numeric) {
        const v = numExpr(col(f), typ(f));
        problems.push(`WHEN ${nullOrBlank(col(f), typ(f))} THEN '${f}|is empty'`);
        problems.push(`WHEN ${v} IS NULL THEN '${f}|is not a number'`);
        problems.push(`WHEN NOT isfinite(${v}) THEN '${f}|is not finite'`);
        problems.push(f === 'volume' ? `WHEN ${v} < 0 THEN '${f}|is negative'` : `WHEN ${v} <= 0 THEN '${f}|is not a positive price'`);
      }
      // A bar must be consistent: low <= open, close <= high. Range features divide by these.
      const has = (f: NumericField) => numeric.includes(f);
      const nv = (f: NumericField) => numExpr(col(f), typ(f));
      if (has('high') && has('low')) problems.push(`WHEN ${nv('high')} < ${nv('low')} THEN 'high|is below the row''s low'`);
      for (const f of ['close', 'open'] as const) {
        if (!has(f)) continue;
        if (has('high')) problems.push(`WHEN ${nv(f)} > ${nv('high')} THEN '${f}|is above the row''s high'`);
        if (has('low')) problems.push(`WHEN ${nv(f)} < ${nv('low')} THEN '${f}|is below the row''s low'`);
      }
      selects.push(
        `SELECT NULLIF(trim(CAST(${col('symbol')} AS VARCHAR)), '') AS symbol, ${dateExpr(col('date'), typ('date'))} AS d,
           ${numeric.map((f) => `${numExpr(col(f), typ(f))} AS ${f}`).join(', ')},
           ${i} AS src, ${recOf[i]} AS rec, CASE ${problems.join(' ')} END AS problem
         FROM raw_${i}`,
      );
    }
    try {
      await conn.run(`CREATE TABLE prices AS SELECT * FROM (${selects.join(' UNION ALL ')}) ORDER BY symbol, d`);
    } catch (err) {
      throw new DataError(`${sources.map((x) => x.path).join(', ')}: cannot be read: ${(err as Error).message.split('\n')[0]}`, 'source');
    }
    const counts = await conn.runAndReadAll(`SELECT src, count(*) FROM prices GROUP BY src`);
    const nonEmpty = new Set(counts.getRowsJS().map((r) => Number(r[0])));
    sources.forEach((src, i) => {
      if (!nonEmpty.has(i)) throw new DataError(`${src.path}: no data rows`, src.path);
    });
    const bad = await conn.runAndReadAll(
      `SELECT src, rec, problem, count(*) OVER () AS n FROM prices WHERE problem IS NOT NULL ORDER BY src, rec LIMIT 1`,
    );
    const badRow = bad.getRowObjectsJS()[0];
    if (badRow) {
      const i = Number(badRow.src);
      const src = sources[i]!;
      const [column, what] = String(badRow.problem).split('|') as [Field, string];
      const name = columnMaps[i]!.get(column)!.name;
      const text = await conn.runAndReadAll(`SELECT CAST(${sqlIdent(name)} AS VARCHAR) FROM raw_${i} WHERE ${recOf[i]} = ${Number(badRow.rec)}`);
      const raw = text.getRowsJS()[0]?.[0];
      const row = await MarketDataStore.rowNumber(src, Number(badRow.rec));
      const more = Number(badRow.n) > 1 ? ` (${Number(badRow.n) - 1} more rows have problems)` : '';
      const shown = raw === null || raw === undefined ? '' : ` '${String(raw)}'`;
      throw new DataError(`${src.path}: row ${row}, column '${column}': value${shown} ${what}${more}`, column);
    }

    // 5. Duplicate (symbol, date) rows, within a file or across files.
    // A plain GROUP BY finds them; the (rare) details are fetched only when there is one.
    const dup = await conn.runAndReadAll(
      `WITH k AS (SELECT symbol, d, count(*) OVER () AS n FROM prices GROUP BY symbol, d HAVING count(*) > 1)
       SELECT p.symbol, p.d::VARCHAR AS day, p.src, p.rec, k.n FROM prices p JOIN k USING (symbol, d)
       ORDER BY p.src, p.rec LIMIT 1`,
    );
    const first = dup.getRowObjectsJS()[0];
    const dupRows = first
      ? (
          await conn.runAndReadAll(
            `SELECT src, rec, ${Number(first.n)} AS n, symbol, d::VARCHAR AS day FROM prices WHERE symbol = $1 AND d = $2::DATE ORDER BY src, rec LIMIT 2`,
            [String(first.symbol), String(first.day)],
          )
        ).getRowObjectsJS()
      : [];
    if (dupRows.length > 0) {
      const where: string[] = [];
      for (const r of dupRows) {
        const src = sources[Number(r.src)]!;
        where.push(`${src.path}: row ${await MarketDataStore.rowNumber(src, Number(r.rec))}`);
      }
      const n = Number(dupRows[0]!.n);
      const more = n > 1 ? ` (${n - 1} more duplicated (symbol, date) pairs)` : '';
      throw new DataError(
        `${where.join(' and ')}, column 'date': duplicate row for (symbol, date) = ('${String(dupRows[0]!.symbol)}', ${String(dupRows[0]!.day)})${more}`,
        'date',
      );
    }

    // 6. Sortedness is reported, not required.
    const sorted = await conn.runAndReadAll(
      `SELECT coalesce(bool_and(prev IS NULL OR d > prev), true) FROM (SELECT d, lag(d) OVER (PARTITION BY src, symbol ORDER BY rec) AS prev FROM prices)`,
    );
    const sortedInput = Boolean(sorted.getRowsJS()[0]![0]);

    for (let i = 0; i < sources.length; i++) {
      await conn.run(sources[i]!.format === 'csv' ? `DROP TABLE raw_${i}` : `DROP VIEW raw_${i}`);
    }
    await conn.run('ALTER TABLE prices DROP COLUMN problem');
    const summary = await conn.runAndReadAll(`SELECT count(*), min(d)::VARCHAR, max(d)::VARCHAR FROM prices`);
    const [rows, start, end] = summary.getRowsJS()[0]!;
    // A checkpoint compresses the in-memory table (measured: 3 M rows from ≈ 300 MB to ≈ 115 MB) at
    // about a quarter of a second per million rows: worth it for large stores only.
    if (Number(rows) >= COMPRESS_ROWS) await conn.run('CHECKPOINT');
    const syms = await conn.runAndReadAll(`SELECT DISTINCT symbol FROM prices ORDER BY symbol`);
    const symbolList = syms.getRowsJS().map((r) => String(r[0]));
    return new MarketDataStore(instance, conn, sources, optional as NumericField[], symbolList, {
      rows: Number(rows),
      start: String(start),
      end: String(end),
      sortedInput,
    });
  }

  /** The 1-based row a record is reported as: its physical line in a CSV, its row in a Parquet file. */
  private static async rowNumber(src: Source, rec: number): Promise<number> {
    if (src.format === 'parquet') return rec + 1;
    const lines = await csvRecordLines(resolve(src.path), [rec]);
    return lines.get(rec) ?? rec + 2;
  }

  private live(): DuckDBConnection {
    if (this.closed) throw new DisposedError('MarketDataStore: used after close()', 'store');
    return this.conn;
  }

  /** All symbols, sorted. */
  symbols(): string[] {
    this.live();
    return this.symbolList.slice();
  }

  /** First and last date in the store (ISO). */
  dateRange(): { start: string; end: string } {
    this.live();
    return { start: this.meta.start, end: this.meta.end };
  }

  info(): StoreInfo {
    this.live();
    return {
      sources: this.sources.map((s) => s.path),
      rows: this.meta.rows,
      symbols: this.symbolList.length,
      start: this.meta.start,
      end: this.meta.end,
      optionalColumns: this.optional.slice(),
      hasOhlcv: OPTIONAL.every((o) => (this.optional as string[]).includes(o)),
      sortedInput: this.meta.sortedInput,
    };
  }

  private resolveQuery(q: PanelQuery): { symbols: string[]; start: string; end: string; maxFill: number; fillAfterLast: boolean } {
    const symbols = q.symbols ?? this.symbolList;
    if (!Array.isArray(symbols) || symbols.length === 0) throw new InvalidArgumentError('symbols: at least one symbol is required', 'symbols');
    const known = new Set(this.symbolList);
    const seen = new Set<string>();
    for (const s of symbols) {
      if (!known.has(s)) throw new NotFoundError(`symbol '${s}' is not in ${this.sources.map((x) => x.path).join(', ')}`, s);
      if (seen.has(s)) throw new InvalidArgumentError(`symbols: '${s}' is listed twice`, 'symbols');
      seen.add(s);
    }
    const start = q.start ?? this.meta.start;
    const end = q.end ?? this.meta.end;
    checkIsoDate(start, 'start');
    checkIsoDate(end, 'end');
    if (start > end) throw new InvalidArgumentError(`start ${start} is after end ${end}`, 'start');
    const maxFill = q.maxFillDays ?? DEFAULT_MAX_FILL_DAYS;
    if (!Number.isInteger(maxFill) || maxFill < 0) throw new InvalidArgumentError(`maxFillDays must be a non-negative integer, got ${maxFill}`, 'maxFillDays');
    if (q.minHistory !== undefined && (!Number.isInteger(q.minHistory) || q.minHistory < 0)) {
      throw new InvalidArgumentError(`minHistory must be a non-negative integer, got ${q.minHistory}`, 'minHistory');
    }
    return { symbols: symbols.slice(), start, end, maxFill, fillAfterLast: q.fillAfterLast !== false };
  }

  /** The union calendar (days since 1970-01-01) of the selected symbols within [start, end]. */
  private async calendar(symbols: string[], start: string, end: string): Promise<Int32Array> {
    const r = await this.live().runAndReadAll(
      `SELECT DISTINCT (d - DATE '1970-01-01')::INTEGER AS day FROM prices
       WHERE symbol IN (SELECT unnest($1::VARCHAR[])) AND d BETWEEN $2::DATE AND $3::DATE ORDER BY day`,
      [listValue(symbols), start, end],
    );
    return Int32Array.from((r.getColumnsJS()[0] ?? []).map(Number));
  }

  /** A panel of the selected symbols on their union calendar, with the missing-day policy applied. */
  async panel(q: PanelQuery = {}): Promise<PricePanel> {
    const { symbols, start, end, maxFill, fillAfterLast } = this.resolveQuery(q);
    const days = await this.calendar(symbols, start, end);
    if (days.length === 0) {
      throw new DataError(`${this.sources.map((x) => x.path).join(', ')}: no rows for the selected symbols between ${start} and ${end}`, 'date');
    }
    const panel = await this.assemble(symbols, days, start, end, maxFill, fillAfterLast);
    if (q.minHistory !== undefined) await this.checkMinHistory(panel, q.minHistory);
    return panel;
  }

  /**
   * The same panel in chunks of symbols, all on the calendar of the whole selection: for stores too
   * large to hold (or to build features for) at once.
   */
  async *panels(q: PanelChunkQuery = {}): AsyncGenerator<PricePanel, void, undefined> {
    const { symbols, start, end, maxFill, fillAfterLast } = this.resolveQuery(q);
    const chunk = q.chunkSize ?? 256;
    if (!Number.isInteger(chunk) || chunk < 1) throw new InvalidArgumentError(`chunkSize must be a positive integer, got ${chunk}`, 'chunkSize');
    const days = await this.calendar(symbols, start, end);
    if (days.length === 0) {
      throw new DataError(`${this.sources.map((x) => x.path).join(', ')}: no rows for the selected symbols between ${start} and ${end}`, 'date');
    }
    for (let i = 0; i < symbols.length; i += chunk) {
      const panel = await this.assemble(symbols.slice(i, i + chunk), days, start, end, maxFill, fillAfterLast);
      if (q.minHistory !== undefined) await this.checkMinHistory(panel, q.minHistory);
      yield panel;
    }
  }

  private async assemble(symbols: string[], days: Int32Array, start: string, end: string, maxFill: number, fillAfterLast: boolean): Promise<PricePanel> {
    const S = symbols.length;
    const D = days.length;
    if (S * D > 2 ** 31 - 1) {
      throw new InvalidArgumentError(`${S} symbols × ${D} days is too large for one panel; use panels({ chunkSize })`, 'symbols');
    }
    const fields: NumericField[] = ['close', ...this.optional];
    const arrays = fields.map(() => new Float64Array(S * D).fill(Number.NaN));
    const observed = new Uint8Array(S * D);
    // DuckDB computes each row's flat index (symbol · days + calendar position), so JavaScript only
    // scatters values: no per-row map lookups for 15 million rows.
    const res = await this.live().run(
      `WITH sel AS (SELECT unnest($1::VARCHAR[]) AS symbol, generate_subscripts($1::VARCHAR[], 1) - 1 AS i),
            cal AS (SELECT unnest($4::INTEGER[]) AS day, generate_subscripts($4::INTEGER[], 1) - 1 AS k)
       SELECT (sel.i * ${D} + cal.k)::INTEGER, ${fields.map((f) => `p.${f}`).join(', ')}
       FROM prices p JOIN sel USING (symbol) JOIN cal ON cal.day = (p.d - DATE '1970-01-01')::INTEGER
       WHERE p.d BETWEEN $2::DATE AND $3::DATE`,
      [listValue(symbols), start, end, listValue(Array.from(days))],
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
    const listed = new Uint8Array(S * D);
    const filled = new Uint8Array(S * D);
    const close = arrays[0]!;
    const at = (f: NumericField): Float64Array | undefined => {
      const k = fields.indexOf(f);
      return k >= 0 ? arrays[k] : undefined;
    };
    const open = at('open');
    const high = at('high');
    const low = at('low');
    const volume = at('volume');
    for (let s = 0; s < S; s++) {
      const base = s * D;
      let first = -1;
      let last = -1;
      for (let t = 0; t < D; t++) {
        if (observed[base + t]) {
          if (first < 0) first = t;
          last = t;
        }
      }
      if (first < 0) continue;
      let gap = 0;
      let prev = Number.NaN;
      const end = fillAfterLast ? D - 1 : last;
      for (let t = first; t <= end; t++) {
        const i = base + t;
        if (observed[i]) {
          listed[i] = 1;
          gap = 0;
          prev = close[i]!;
          continue;
        }
        gap++;
        if (gap > maxFill) continue;
        // A filled day is a day without trading: the price stands still, the bar is flat, volume is 0.
        listed[i] = 1;
        filled[i] = 1;
        close[i] = prev;
        if (open) open[i] = prev;
        if (high) high[i] = prev;
        if (low) low[i] = prev;
        if (volume) volume[i] = 0;
      }
    }
    const hasOhlcv = Boolean(open && high && low && volume);
    const panel: PricePanel = {
      symbols: symbols.slice(),
      dates: Array.from(days, dayToIso),
      close,
      listed,
      filled,
      hasOhlcv,
      sources: this.sources.map((x) => x.path),
    };
    if (open) panel.open = open;
    if (high) panel.high = high;
    if (low) panel.low = low;
    if (volume) panel.volume = volume;
    return panel;
  }

  private async checkMinHistory(panel: PricePanel, minHistory: number): Promise<void> {
    const runs = longestListedRun(panel);
    for (let s = 0; s < panel.symbols.length; s++) {
      if (runs[s]! >= minHistory) continue;
      const symbol = panel.symbols[s]!;
      const r = await this.live().runAndReadAll(
        `SELECT src, min(rec), max(rec), count(*) FROM prices WHERE symbol = $1 GROUP BY src ORDER BY src LIMIT 1`,
        [symbol],
      );
      const row = r.getRowsJS()[0];
      let where = this.sources.map((x) => x.path).join(', ');
      if (row) {
        const src = this.sources[Number(row[0])]!;
        where = `${src.path}: rows ${await MarketDataStore.rowNumber(src, Number(row[1]))}–${await MarketDataStore.rowNumber(src, Number(row[2]))}`;
      }
      throw new DataError(
        `${where}, column 'symbol': symbol '${symbol}' has too little history: its longest run of listed days between ${panel.dates[0]} and ${panel.dates[panel.dates.length - 1]} is ${runs[s]}, ${minHistory} needed`,
        symbol,
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
