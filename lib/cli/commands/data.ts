/**
 * `tft-native data info` and `tft-native data features`: what a price file contains and which features the
 * product builds from it. Both default to the bundled Dow 30 sample, so they work out of the box.
 */
import type { Command } from 'commander';

import { FeatureBuilder } from '../../data/feature-builder.js';
import { featureCatalogue, maxLookback, type FeatureSpec } from '../../data/feature-catalogue.js';
import { DEFAULT_MAX_FILL_DAYS, MarketDataStore, bundledDataPath } from '../../data/market-data-store.js';
import { panelCoverage } from '../../data/price-panel.js';
import { requiredHistory } from '../../data/required-history.js';
import { InvalidArgumentError } from '../../errors.js';

interface InfoOptions {
  data?: string[];
  maxFillDays?: string;
  perSymbol?: boolean;
  json?: boolean;
}

interface FeaturesOptions {
  data?: string[];
  groups?: string;
  list?: boolean;
  closeOnly?: boolean;
  allowShortHistory?: boolean;
  maxFillDays?: string;
  json?: boolean;
}

function out(line = ''): void {
  process.stdout.write(line + '\n');
}

function table(rows: string[][]): void {
  if (rows.length === 0) return;
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows)
    out(
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    );
}

function fillDays(v: string | undefined): number {
  if (v === undefined) return DEFAULT_MAX_FILL_DAYS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`--max-fill-days must be a non-negative integer, got '${v}'`, 'max-fill-days');
  return n;
}

function groupsOption(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const g = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (g.length === 0) throw new InvalidArgumentError('--groups needs at least one group name', 'groups');
  return g;
}

async function openStore(files: string[] | undefined): Promise<MarketDataStore> {
  return files && files.length > 0 ? MarketDataStore.open(files) : MarketDataStore.open(bundledDataPath());
}

async function info(opts: InfoOptions): Promise<void> {
  const maxFillDays = fillDays(opts.maxFillDays);
  const store = await openStore(opts.data);
  try {
    const i = store.info();
    const panel = await store.panel({ maxFillDays });
    const cov = panelCoverage(panel);
    const filled = cov.reduce((a, c) => a + c.filled, 0);
    const unfilled = cov.reduce((a, c) => a + c.unfilled, 0);
    const withGaps = cov.filter((c) => c.filled + c.unfilled > 0);
    const longest = cov.reduce((a, c) => (c.longestGap > a.longestGap ? c : a), cov[0]!);
    if (opts.json) {
      out(
        JSON.stringify(
          {
            ...i,
            calendarDays: panel.dates.length,
            maxFillDays,
            filledDays: filled,
            unfilledDays: unfilled,
            symbolsWithGaps: withGaps.length,
            coverage: cov,
          },
          null,
          2,
        ),
      );
      return;
    }
    table([
      ['sources', i.sources.join(', ')],
      ['rows', String(i.rows)],
      ['symbols', String(i.symbols)],
      ['date range', `${i.start} … ${i.end}`],
      ['calendar days', `${panel.dates.length} (union of the symbols' trading days)`],
      [
        'columns',
        `date, symbol, close${i.optionalColumns.length ? ', ' + i.optionalColumns.join(', ') : ''}${i.hasOhlcv ? ' (OHLCV)' : ''}`,
      ],
      ['input sorted', i.sortedInput ? 'yes' : 'no (sorted on load)'],
      [
        'missing days',
        `${filled + unfilled} inside symbol spans: ${filled} forward filled (limit ${maxFillDays} days), ${unfilled} left NaN`,
      ],
      [
        'symbols with gaps',
        `${withGaps.length}${longest && longest.longestGap > 0 ? `; longest gap ${longest.longestGap} days (${longest.symbol})` : ''}`,
      ],
    ]);
    if (opts.perSymbol) {
      out();
      table([
        ['symbol', 'first', 'last', 'observed', 'filled', 'unfilled', 'longest gap'],
        ...cov.map((c) => [
          c.symbol,
          c.first ?? '-',
          c.last ?? '-',
          String(c.observed),
          String(c.filled),
          String(c.unfilled),
          String(c.longestGap),
        ]),
      ]);
    }
  } finally {
    await store.close();
  }
}

function listCatalogue(specs: FeatureSpec[], json: boolean | undefined): void {
  if (json) {
    out(JSON.stringify(specs, null, 2));
    return;
  }
  table([['name', 'group', 'lookback', 'ohlcv'], ...specs.map((s) => [s.name, s.group, String(s.lookback), s.needsOhlcv ? 'yes' : 'no'])]);
  out();
  out(`${specs.length} features (${specs.filter((s) => !s.needsOhlcv).length} close-only), max lookback ${maxLookback(specs)}`);
}

async function features(opts: FeaturesOptions): Promise<void> {
  const groups = groupsOption(opts.groups);
  if (opts.list) {
    const specs = featureCatalogue({ ohlcv: !opts.closeOnly, ...(groups ? { groups } : {}) });
    listCatalogue(specs, opts.json);
    return;
  }
  const store = await openStore(opts.data);
  try {
    const builder = new FeatureBuilder({ ...(groups ? { groups } : {}), ohlcv: opts.closeOnly ? false : 'auto' });
    // The store checks history itself so that a short symbol is reported with its file and rows.
    const minHistory = opts.allowShortHistory ? undefined : requiredHistory(builder, store.info().hasOhlcv);
    const panel = await store.panel({ maxFillDays: fillDays(opts.maxFillDays), minHistory });
    const t0 = performance.now();
    const fp = builder.build(panel, { allowShortHistory: Boolean(opts.allowShortHistory) });
    const ms = performance.now() - t0;
    const S = fp.symbols.length;
    const D = fp.dates.length;
    const F = fp.names.length;
    // Share of NaN after each feature's own warm-up: what gaps and degenerate windows cost.
    const byGroup = new Map<string, { n: number; lo: number; hi: number; nan: number; total: number }>();
    for (let f = 0; f < F; f++) {
      const g = byGroup.get(fp.groups[f]!) ?? { n: 0, lo: Infinity, hi: 0, nan: 0, total: 0 };
      g.n++;
      g.lo = Math.min(g.lo, fp.lookbacks[f]!);
      g.hi = Math.max(g.hi, fp.lookbacks[f]!);
      for (let s = 0; s < S; s++) {
        for (let t = fp.lookbacks[f]!; t < D; t++) {
          g.total++;
          if (Number.isNaN(fp.values[(s * D + t) * F + f]!)) g.nan++;
        }
      }
      byGroup.set(fp.groups[f]!, g);
    }
    const groupsOut = [...byGroup].map(([group, g]) => ({
      group,
      features: g.n,
      lookbackMin: g.lo,
      lookbackMax: g.hi,
      nanAfterWarmup: g.total ? g.nan / g.total : 0,
    }));
    if (opts.json) {
      out(
        JSON.stringify(
          {
            symbols: S,
            days: D,
            features: F,
            maxLookback: fp.maxLookback,
            hasOhlcv: panel.hasOhlcv,
            buildMs: Math.round(ms),
            groups: groupsOut,
          },
          null,
          2,
        ),
      );
      return;
    }
    out(
      `${S} symbols × ${D} days × ${F} features (${panel.hasOhlcv ? 'OHLCV' : 'close only'}), max lookback ${fp.maxLookback}, built in ${ms.toFixed(0)} ms`,
    );
    out();
    table([
      ['group', 'features', 'lookbacks', 'NaN after warm-up'],
      ...groupsOut.map((g) => [
        g.group,
        String(g.features),
        g.lookbackMin === g.lookbackMax ? String(g.lookbackMin) : `${g.lookbackMin}–${g.lookbackMax}`,
        `${(100 * g.nanAfterWarmup).toFixed(2)}%`,
      ]),
    ]);
  } finally {
    await store.close();
  }
}

export function registerData(program: Command): void {
  const data = program.command('data').description('market data store and feature catalogue (default data: the bundled Dow 30 sample)');
  data
    .command('info')
    .description('symbols, date range, rows and missing-day statistics of a price file')
    .option('--data <files...>', 'CSV or Parquet files in long format (date, symbol, close[, open, high, low, volume])')
    .option('--max-fill-days <n>', `forward-fill limit for missing days (default ${DEFAULT_MAX_FILL_DAYS})`)
    .option('--per-symbol', 'one line per symbol')
    .option('--json', 'machine-readable output')
    .action((opts: InfoOptions) => info(opts));
  data
    .command('features')
    .description('build the features of a price file and summarise them; with --list, print the catalogue only')
    .option('--data <files...>', 'CSV or Parquet files in long format')
    .option('--groups <names>', 'comma-separated feature groups')
    .option('--list', 'print the catalogue (name, group, lookback, needs OHLCV) without reading data')
    .option('--close-only', 'leave out features that need open/high/low/volume')
    .option('--allow-short-history', 'build symbols with less history than the longest lookback (their values stay NaN)')
    .option('--max-fill-days <n>', `forward-fill limit for missing days (default ${DEFAULT_MAX_FILL_DAYS})`)
    .option('--json', 'machine-readable output')
    .action((opts: FeaturesOptions) => features(opts));
}
