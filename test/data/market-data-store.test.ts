/** MarketDataStore: reading CSV and Parquet through DuckDB, validation errors, calendar alignment. */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DataError, DisposedError, InvalidArgumentError, NotFoundError, TftError } from '../../lib/errors.js';
import { MarketDataStore, bundledDataPath } from '../../lib/data/market-data-store.js';
import { panelCoverage, type PricePanel } from '../../lib/data/price-panel.js';
import { TempDir } from './helpers.js';

let tmp: TempDir;
beforeAll(() => {
  tmp = new TempDir();
});
afterAll(() => tmp.remove());

async function sql(statement: string): Promise<void> {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    await conn.run(statement);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

async function openPanel(source: string | string[], q: Parameters<MarketDataStore['panel']>[0] = {}): Promise<PricePanel> {
  const store = await MarketDataStore.open(source);
  try {
    return await store.panel(q);
  } finally {
    await store.close();
  }
}

/** The DataError an open (or panel) raises; fails the test when there is none. */
async function dataError(source: string | string[], q?: Parameters<MarketDataStore['panel']>[0]): Promise<DataError> {
  try {
    await openPanel(source, q);
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    expect((e as TftError).code).toBe('ERR_DATA');
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

function expectSamePanel(a: PricePanel, b: PricePanel): void {
  expect(a.symbols).toEqual(b.symbols);
  expect(a.dates).toEqual(b.dates);
  expect(a.hasOhlcv).toBe(b.hasOhlcv);
  for (const k of ['close', 'open', 'high', 'low', 'volume', 'listed', 'filled'] as const) {
    const x = a[k];
    const y = b[k];
    expect(x === undefined, k).toBe(y === undefined);
    if (x && y) expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), k).toBe(true);
  }
}

const HEADER = 'date,symbol,close\n';

describe('the bundled sample', () => {
  it('is the Dow 30, 1990-12-31 … 2001-01-02, 2,529 days each', async () => {
    const store = await MarketDataStore.bundled();
    try {
      expect(store.symbols().length).toBe(30);
      expect(store.symbols()).toContain('IBM');
      expect(store.dateRange()).toEqual({ start: '1990-12-31', end: '2001-01-02' });
      const info = store.info();
      expect(info.rows).toBe(75_870);
      expect(info.hasOhlcv).toBe(false);
      expect(info.sortedInput).toBe(true);
      const p = await store.panel();
      expect(p.dates.length).toBe(2529);
      expect(p.close.length).toBe(30 * 2529);
      expect(p.listed.every((v) => v === 1)).toBe(true);
      expect(p.filled.every((v) => v === 0)).toBe(true);
      expect(p.close[0]).toBe(5.92); // AA on 1990-12-31, the file's first row
      expect(p.sources).toEqual([bundledDataPath()]);
    } finally {
      await store.close();
    }
  });

  it('the OHLCV sample has open/high/low/volume', async () => {
    const p = await openPanel(bundledDataPath('sp500_ohlcv.csv'));
    expect(p.hasOhlcv).toBe(true);
    expect(p.symbols).toEqual(['SPX']);
    expect(p.dates.length).toBe(5105);
    expect([p.open![0], p.high![0], p.low![0], p.close[0], p.volume![0]]).toEqual([1469.25, 1478, 1438.36, 1455.22, 931_800_000]);
  });
});

describe('CSV and Parquet', () => {
  it('give identical panels (typed and text Parquet columns)', async () => {
    const csv = bundledDataPath('sp500_ohlcv.csv');
    const typed = tmp.join('typed.parquet');
    const text = tmp.join('text.parquet');
    await sql(`COPY (SELECT * FROM read_csv('${csv}')) TO '${typed}' (FORMAT parquet)`);
    await sql(`COPY (SELECT * FROM read_csv('${csv}', all_varchar = true)) TO '${text}' (FORMAT parquet)`);
    const a = await openPanel(csv);
    expectSamePanel(await openPanel(typed), a);
    expectSamePanel(await openPanel(text), a);
  });

  it('the Dow 30 split over a CSV and a Parquet file is the same panel as one file', async () => {
    const dow = bundledDataPath();
    const part1 = tmp.join('dow-a.csv');
    const part2 = tmp.join('dow-b.parquet');
    await sql(`COPY (SELECT * FROM read_csv('${dow}', all_varchar = true) WHERE symbol < 'K') TO '${part1}' (HEADER, DELIMITER ',')`);
    await sql(`COPY (SELECT * FROM read_csv('${dow}') WHERE symbol >= 'K') TO '${part2}' (FORMAT parquet)`);
    expectSamePanel(await openPanel([part2, part1]), await openPanel(dow));
  });

  it('unsorted input is sorted, not rejected', async () => {
    const lines = readFileSync(bundledDataPath(), 'utf8').trim().split('\n');
    const body = lines.slice(1, 2001);
    // A deterministic shuffle.
    const shuffled = body.map((l, i) => [(i * 7919) % body.length, l] as const).sort((x, y) => x[0] - y[0]).map((x) => x[1]);
    const sortedFile = tmp.file('sorted.csv', [lines[0], ...body].join('\n') + '\n');
    const shuffledFile = tmp.file('shuffled.csv', [lines[0], ...shuffled].join('\n') + '\n');
    const store = await MarketDataStore.open(shuffledFile);
    expect(store.info().sortedInput).toBe(false);
    await store.close();
    expectSamePanel({ ...(await openPanel(shuffledFile)), sources: [] }, { ...(await openPanel(sortedFile)), sources: [] });
  });

  it('accepts header names in any case, extra columns and whitespace', async () => {
    const f = tmp.file('loose.csv', 'Date,Ticker,SYMBOL, Close ,note\n2020-01-02,x, A ,10,hi\n2020-01-03,x,A, 11 ,\n');
    const p = await openPanel(f);
    expect(p.symbols).toEqual(['A']);
    expect(Array.from(p.close)).toEqual([10, 11]);
  });
});

describe('calendar alignment and the missing-day policy', () => {
  // Day d of January 2020 for each row; A and B trade on different days.
  const rows = (sym: string, days: number[], price = (d: number) => 100 + d): string =>
    days.map((d) => `2020-01-${String(d).padStart(2, '0')},${sym},${price(d)}`).join('\n');

  it('aligns on the union calendar and, with the hindsight variant, forward fills within the symbol span only', async () => {
    const f = tmp.file('align.csv', `${HEADER}${rows('A', [1, 2, 3, 5, 6])}\n${rows('B', [2, 3, 4, 5, 8])}\n`);
    const p = await openPanel(f, { fillAfterLast: false });
    expect(p.dates).toEqual(['2020-01-01', '2020-01-02', '2020-01-03', '2020-01-04', '2020-01-05', '2020-01-06', '2020-01-08']);
    const D = p.dates.length;
    const A = Array.from(p.close.subarray(0, D));
    const B = Array.from(p.close.subarray(D));
    expect(A).toEqual([101, 102, 103, 103, 105, 106, Number.NaN]); // day 4 filled; nothing after the last row
    expect(B).toEqual([Number.NaN, 102, 103, 104, 105, 105, 108]); // nothing before the first row; day 6 filled
    expect(Array.from(p.filled)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(Array.from(p.listed)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]);
    const cov = panelCoverage(p);
    expect(cov[0]).toMatchObject({ symbol: 'A', first: '2020-01-01', last: '2020-01-06', observed: 5, filled: 1, unfilled: 0, longestGap: 1 });
  });

  it('fills at most maxFillDays consecutive days; beyond that NaN and not listed', async () => {
    const f = tmp.file('gap.csv', `${HEADER}${rows('A', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])}\n${rows('B', [1, 2, 10, 12])}\n`);
    const store = await MarketDataStore.open(f);
    try {
      const D = 12;
      const b = async (maxFillDays?: number): Promise<[number[], number[], number[]]> => {
        const p = await store.panel({ symbols: ['B'], ...(maxFillDays === undefined ? {} : { maxFillDays }) });
        expect(p.dates.length).toBe(4); // B alone: its own calendar
        const q = await store.panel({ symbols: ['A', 'B'], ...(maxFillDays === undefined ? {} : { maxFillDays }) });
        expect(q.dates.length).toBe(D);
        return [Array.from(q.close.subarray(D)), Array.from(q.listed.subarray(D)), Array.from(q.filled.subarray(D))];
      };
      const N = Number.NaN;
      // Default limit 5: days 3–7 filled from day 2, days 8–9 NaN, day 11 filled from day 10.
      const [c, l, fl] = await b();
      expect(c).toEqual([101, 102, 102, 102, 102, 102, 102, N, N, 110, 110, 112]);
      expect(l).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
      expect(fl).toEqual([0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0]);
      const [c0, l0] = await b(0);
      expect(c0).toEqual([101, 102, N, N, N, N, N, N, N, 110, N, 112]);
      expect(l0).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
      const [c7] = await b(7);
      expect(c7).toEqual([101, 102, 102, 102, 102, 102, 102, 102, 102, 110, 110, 112]);
      const cov = panelCoverage(await store.panel({ symbols: ['A', 'B'], maxFillDays: 2 }));
      expect(cov[1]).toMatchObject({ observed: 4, filled: 3, unfilled: 5, longestGap: 7 });
    } finally {
      await store.close();
    }
  });

  it('the default fills past the last row too, which makes the panel causal (a prefix of the full one)', async () => {
    const f = tmp.file('tail.csv', `${HEADER}${rows('A', [1, 2, 3, 5, 9])}\n${rows('B', [1, 2, 3, 4, 5, 6, 7, 8, 9])}\n`);
    const store = await MarketDataStore.open(f);
    try {
      const N = Number.NaN;
      const a = async (q: Parameters<MarketDataStore['panel']>[0]): Promise<number[]> => {
        const p = await store.panel(q);
        return Array.from(p.close.subarray(0, p.dates.length));
      };
      // Without fillAfterLast, day 4 seen on day 4 lies after A's last row (NaN); with hindsight it is filled.
      expect(await a({ end: '2020-01-04', fillAfterLast: false })).toEqual([101, 102, 103, N]);
      expect((await a({ maxFillDays: 2, fillAfterLast: false })).slice(0, 4)).toEqual([101, 102, 103, 103]);
      // With the default (fillAfterLast) every truncation is a prefix of the full panel.
      expect(await a({ maxFillDays: 2 })).toEqual(await a({ maxFillDays: 2, fillAfterLast: true }));
      const full = await a({ maxFillDays: 2, fillAfterLast: true });
      expect(full).toEqual([101, 102, 103, 103, 105, 105, 105, N, 109]);
      for (const end of ['2020-01-04', '2020-01-06', '2020-01-08']) {
        const part = await a({ maxFillDays: 2, fillAfterLast: true, end });
        expect(part).toEqual(full.slice(0, part.length));
      }
    } finally {
      await store.close();
    }
  });

  it('a filled OHLCV day is a day without trading: flat bar at the last close, zero volume', async () => {
    const f = tmp.file(
      'ohlcv.csv',
      'date,symbol,open,high,low,close,volume\n2020-01-01,A,10,12,9,11,500\n2020-01-03,A,11,13,10,12,600\n2020-01-02,B,5,6,4,5,100\n',
    );
    const p = await openPanel(f);
    expect(p.hasOhlcv).toBe(true);
    expect([p.open![1], p.high![1], p.low![1], p.close[1], p.volume![1], p.filled[1]]).toEqual([11, 11, 11, 11, 0, 1]);
  });

  it('queries by symbols (in the order asked) and by date range', async () => {
    const store = await MarketDataStore.bundled();
    try {
      const p = await store.panel({ symbols: ['MSFT', 'AA'], start: '1995-01-01', end: '1995-12-31' });
      expect(p.symbols).toEqual(['MSFT', 'AA']);
      expect(p.dates[0]! >= '1995-01-01' && p.dates[p.dates.length - 1]! <= '1995-12-31').toBe(true);
      expect(p.dates.length).toBe(252);
      const full = await store.panel();
      const D = full.dates.length;
      const off = full.dates.indexOf(p.dates[0]!);
      const aa = full.symbols.indexOf('AA');
      expect(p.close[p.dates.length + 10]).toBe(full.close[aa * D + off + 10]);
      // Streaming in chunks gives the same data on the same calendar.
      const chunks: PricePanel[] = [];
      for await (const c of store.panels({ chunkSize: 7 })) chunks.push(c);
      expect(chunks.map((c) => c.symbols.length)).toEqual([7, 7, 7, 7, 2]);
      expect(chunks.flatMap((c) => c.symbols)).toEqual(full.symbols);
      expect(Array.from(chunks[1]!.close)).toEqual(Array.from(full.close.subarray(7 * D, 14 * D)));
    } finally {
      await store.close();
    }
  });

  it('rejects bad queries with typed errors', async () => {
    const store = await MarketDataStore.bundled();
    try {
      await expect(store.panel({ symbols: ['NOPE'] })).rejects.toThrow(NotFoundError);
      await expect(store.panel({ symbols: ['AA', 'AA'] })).rejects.toThrow(InvalidArgumentError);
      await expect(store.panel({ symbols: [] })).rejects.toThrow(InvalidArgumentError);
      await expect(store.panel({ start: '1995-13-01' })).rejects.toThrow(InvalidArgumentError);
      await expect(store.panel({ start: '1996-01-01', end: '1995-01-01' })).rejects.toThrow(InvalidArgumentError);
      await expect(store.panel({ maxFillDays: -1 })).rejects.toThrow(InvalidArgumentError);
      await expect(store.panel({ start: '2005-01-01', end: '2006-01-01' })).rejects.toThrow(DataError);
    } finally {
      await store.close();
    }
    expect(() => store.symbols()).toThrow(DisposedError);
  });
});

describe('validation errors name file, row and column', () => {
  const cases: [string, string, RegExp, number, string][] = [
    ['missing column', 'date,symbol,price\n2020-01-01,A,1\n', /missing required column/, 1, 'close'],
    ['unparsable date', `${HEADER}2020-01-01,A,1\n2020-01-02,A,2\n2020-13-45,A,3\n`, /cannot be parsed as a date/, 4, 'date'],
    ['empty date', `${HEADER}2020-01-01,A,1\n,A,2\n`, /date.*is empty|is empty/, 3, 'date'],
    ['empty symbol', `${HEADER}2020-01-01,A,1\n2020-01-02,,2\n`, /is empty/, 3, 'symbol'],
    ['non-numeric close', `${HEADER}2020-01-01,A,1\n2020-01-02,A,abc\n`, /'abc' is not a number/, 3, 'close'],
    ['zero close', `${HEADER}2020-01-01,A,1\n2020-01-02,A,0\n`, /not a positive price/, 3, 'close'],
    ['negative close', `${HEADER}2020-01-01,A,-4\n`, /not a positive price/, 2, 'close'],
    ['infinite close', `${HEADER}2020-01-01,A,1\n2020-01-02,A,inf\n`, /not finite/, 3, 'close'],
    ['NaN close', `${HEADER}2020-01-01,A,nan\n`, /not finite/, 2, 'close'],
    ['negative volume', 'date,symbol,open,high,low,close,volume\n2020-01-01,A,1,1,1,1,-5\n', /negative/, 2, 'volume'],
    ['zero open', 'date,symbol,open,high,low,close,volume\n2020-01-01,A,1,1,1,1,5\n2020-01-02,A,0,1,1,1,5\n', /not a positive price/, 3, 'open'],
    ['duplicate (symbol, date)', `${HEADER}2020-01-01,A,1\n2020-01-02,A,2\n2020-01-01,B,1\n2020-01-02,A,3\n`, /duplicate row for \(symbol, date\) = \('A', 2020-01-02\)/, 3, 'date'],
    ['blank lines do not shift the row', `${HEADER}2020-01-01,A,1\n\n\n2020-01-02,A,x\n`, /is not a number/, 5, 'close'],
    ['digit separator', `${HEADER}2020-01-01,A,1\n2020-01-02,A,1_000\n`, /'1_000' is not a number/, 3, 'close'],
    ['hex number', `${HEADER}2020-01-01,A,0x10\n`, /'0x10' is not a number/, 2, 'close'],
    ['slash date', `${HEADER}2020/01/01,A,1\n`, /'2020\/01\/01' cannot be parsed as a date/, 2, 'date'],
    ['unpadded date', `${HEADER}2020-01-01,A,1\n2020-1-2,A,1\n`, /'2020-1-2' cannot be parsed as a date/, 3, 'date'],
    ['date with a time', `${HEADER}2020-01-03 23:59:59,A,1\n`, /cannot be parsed as a date/, 2, 'date'],
    ['year 0000', `${HEADER}0000-01-02,A,1\n`, /is before year 1/, 2, 'date'],
    ['year 10000', `${HEADER}10000-01-02,A,1\n`, /'10000-01-02' cannot be parsed as a date/, 2, 'date'],
    ['high below low', 'date,symbol,open,high,low,close,volume\n2020-01-01,A,1.5,1,2,1.5,5\n', /is below the row's low/, 2, 'high'],
    ['close above high', 'date,symbol,open,high,low,close,volume\n2020-01-01,A,1,2,1,3,5\n', /'3' is above the row's high/, 2, 'close'],
    ['close below low', 'date,symbol,open,high,low,close,volume\n2020-01-01,A,1,2,1,1,5\n2020-01-02,A,1,2,1,0.5,5\n', /is below the row's low/, 3, 'close'],
    ['open above high', 'date,symbol,open,high,low,close,volume\n2020-01-01,A,2.5,2,1,1.5,5\n', /is above the row's high/, 2, 'open'],
    ['NUL in a symbol', `${HEADER}2020-01-01,A\u0000B,1\n`, /contains a control character/, 2, 'symbol'],
    ['repeated column', 'date,symbol,close,close\n2020-01-01,A,1,2\n', /appears twice/, 1, 'close'],
    ['repeated column in another case', 'date,symbol,close,Close\n2020-01-01,A,1,2\n', /appears twice/, 1, 'close'],
  ];
  for (const [what, content, pattern, row, column] of cases) {
    it(what, async () => {
      const f = tmp.file(`${what.replaceAll(/[^a-z]/g, '_')}.csv`, content);
      const err = await dataError(f);
      expect(err.message).toMatch(pattern);
      expect(err.message).toContain(f);
      expect(err.message).toContain(`row ${row}`);
      expect(err.message).toContain(`column '${column}'`);
    });
  }

  it('a record with more or fewer fields than the header is named by its row, not as a missing column', async () => {
    for (const [content, row, got] of [
      [`${HEADER}2020-01-01,A,1\n2020-01-02,A,1,5\n`, 3, 4],
      [`${HEADER}2020-01-01,A,1\n2020-01-02,A,2\n\n2020-01-03,A\n`, 5, 2],
    ] as const) {
      const f = tmp.file(`fields-${row}.csv`, content);
      const err = await dataError(f);
      expect(err.message).toBe(`${f}: row ${row}: ${got} fields where the header (row 1) has 3`);
    }
  });

  it('gzipped CSV is read, and its rows are counted in the decompressed text', async () => {
    const f = tmp.join('prices.csv.gz');
    writeFileSync(f, gzipSync(`${HEADER}2020-01-01,A,1\n\n2020-01-02,A,2\n2020-01-03,A,-1\n`));
    const err = await dataError(f);
    expect(err.message).toContain(`${f}: row 5, column 'close'`);
  });

  it('a duplicate across two files names both', async () => {
    const a = tmp.file('dup-a.csv', `${HEADER}2020-01-01,A,1\n2020-01-02,A,2\n`);
    const b = tmp.file('dup-b.csv', `${HEADER}2020-01-03,A,1\n2020-01-02,A,2\n`);
    const err = await dataError([a, b]);
    expect(err.message).toContain(`${a}: row 3`);
    expect(err.message).toContain(`${b}: row 3`);
    expect(err.message).toContain("column 'date'");
  });

  it('the first bad row is reported with a count of the others', async () => {
    const f = tmp.file('many.csv', `${HEADER}2020-01-01,A,x\n2020-01-02,A,y\n2020-01-03,A,z\n`);
    const err = await dataError(f);
    expect(err.message).toContain('row 2');
    expect(err.message).toContain('2 more rows have problems');
  });

  it('Parquet rows are 1-based rows of the file; a missing column names the schema', async () => {
    const bad = tmp.join('bad.parquet');
    await sql(`COPY (SELECT * FROM (VALUES ('2020-01-01', 'A', 1.0), ('2020-01-02', 'A', -2.0)) t(date, symbol, close)) TO '${bad}' (FORMAT parquet)`);
    const err = await dataError(bad);
    expect(err.message).toContain(`${bad}: row 2, column 'close'`);
    const nocol = tmp.join('nocol.parquet');
    await sql(`COPY (SELECT DATE '2020-01-01' AS date, 'A' AS ticker, 1.0 AS close) TO '${nocol}' (FORMAT parquet)`);
    const err2 = await dataError(nocol);
    expect(err2.message).toContain("schema, column 'symbol': missing required column");
  });

  it('a file with a header and no rows, or that is not CSV at all, is a DataError naming it', async () => {
    const empty = tmp.file('empty.csv', HEADER);
    expect((await dataError(empty)).message).toContain(`${empty}: no data rows`);
    const garbage = tmp.file('garbage.parquet', 'this is not parquet');
    expect((await dataError(garbage)).message).toContain(garbage);
  });

  it('too little history for the requested features names file, rows and column', async () => {
    const body = Array.from({ length: 30 }, (_, i) => `2020-02-${String(i + 1).padStart(2, '0')},A,${10 + i}`).filter((l) => !l.startsWith('2020-02-30'));
    const f = tmp.file('short.csv', `${HEADER}${body.join('\n')}\n2020-02-10,B,5\n2020-02-11,B,6\n`);
    const err = await dataError(f, { minHistory: 20, fillAfterLast: false });
    expect(err.message).toContain(`${f}: rows 31–32, column 'symbol'`);
    expect(err.message).toContain("symbol 'B' has too little history");
    expect(err.message).toMatch(/is 2, 20 needed/);
    await expect(openPanel(f, { minHistory: 2, fillAfterLast: false })).resolves.toBeDefined();
  });

  it('missing files and unknown formats are typed errors', async () => {
    await expect(MarketDataStore.open(tmp.join('nope.csv'))).rejects.toThrow(NotFoundError);
    const odd = tmp.file('prices.xlsx', 'x');
    await expect(MarketDataStore.open(odd)).rejects.toThrow(InvalidArgumentError);
    const forced = tmp.file('prices.dat', `${HEADER}2020-01-01,A,1\n`);
    const s = await MarketDataStore.open(forced, { format: 'csv' });
    expect(s.symbols()).toEqual(['A']);
    await s.close();
  });
});
