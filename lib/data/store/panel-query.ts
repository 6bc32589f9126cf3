/** What a caller may ask a store for, and its validation against what the store holds. */
import { InvalidArgumentError, NotFoundError } from '../../errors.js';
import { checkIsoDate } from './iso-days.js';

export const DEFAULT_MAX_FILL_DAYS = 5;

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

/** A query with its defaults applied, every value checked. */
export interface ResolvedQuery {
  symbols: string[];
  start: string;
  end: string;
  maxFill: number;
  fillAfterLast: boolean;
}

/** What a query is checked against. */
export interface StoreExtent {
  symbols: string[];
  start: string;
  end: string;
  /** The store's files, as a NotFoundError for an unknown symbol names them. */
  sourceList: string;
}

function checkSymbols(symbols: string[] | undefined, store: StoreExtent): string[] {
  if (!Array.isArray(symbols) || symbols.length === 0) throw new InvalidArgumentError('symbols: at least one symbol is required', 'symbols');
  const known = new Set(store.symbols);
  const seen = new Set<string>();
  for (const s of symbols) {
    if (!known.has(s)) throw new NotFoundError(`symbol '${s}' is not in ${store.sourceList}`, s);
    if (seen.has(s)) throw new InvalidArgumentError(`symbols: '${s}' is listed twice`, 'symbols');
    seen.add(s);
  }
  return symbols.slice();
}

function checkRange(start: string, end: string): void {
  checkIsoDate(start, 'start');
  checkIsoDate(end, 'end');
  if (start > end) throw new InvalidArgumentError(`start ${start} is after end ${end}`, 'start');
}

function checkNonNegativeInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${value}`, name);
}

export function resolveQuery(q: PanelQuery, store: StoreExtent): ResolvedQuery {
  const symbols = checkSymbols(q.symbols ?? store.symbols, store);
  const start = q.start ?? store.start;
  const end = q.end ?? store.end;
  checkRange(start, end);
  const maxFill = q.maxFillDays ?? DEFAULT_MAX_FILL_DAYS;
  checkNonNegativeInteger(maxFill, 'maxFillDays');
  if (q.minHistory !== undefined) checkNonNegativeInteger(q.minHistory, 'minHistory');
  return { symbols, start, end, maxFill, fillAfterLast: q.fillAfterLast !== false };
}

export function resolveChunkSize(q: PanelChunkQuery): number {
  const chunk = q.chunkSize ?? 256;
  if (!Number.isInteger(chunk) || chunk < 1) throw new InvalidArgumentError(`chunkSize must be a positive integer, got ${chunk}`, 'chunkSize');
  return chunk;
}
