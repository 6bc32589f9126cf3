/**
 * Data-layer benchmark:
 *   node --import tsx benchmarks/features.bench.ts [--runs R] [--scale-symbols N] [--read-symbols M] [--days D]
 *
 * 1. The bundled Dow 30 (30 symbols × 2,529 days, closes only): open the CSV through DuckDB, assemble the
 *    panel, build every close-only feature. Measured in --runs fresh processes (default 5; what a CLI
 *    run pays, cold JIT included), reported as min and median because other load on a small machine
 *    only ever adds time; then a second pass in this process shows the steady state.
 * 2. The bundled S&P 500 OHLCV file (1 symbol × 5,105 days): the full OHLCV catalogue.
 * 3. Scale: a random-walk OHLCV panel (randomPanel of the data tests) of N symbols × D days (default
 *    100 × 5,040 = 20 years) built with buildSymbols in chunks, extrapolated linearly to 3,000 symbols
 *    (features are per symbol).
 * 4. Reading at scale: a Parquet file of M symbols × D days written by DuckDB, opened and streamed with
 *    panels(); extrapolated to 3,000 symbols.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { FeatureBuilder, MarketDataStore, bundledDataPath, featureCatalogue } from '../lib/data/index.js';
import { randomPanel } from '../test/data/helpers.js';
import { printMachine } from './machine.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const RUNS = arg('--runs', 5);
const SCALE_SYMBOLS = arg('--scale-symbols', 100);
const READ_SYMBOLS = arg('--read-symbols', 300);
const DAYS = arg('--days', 5040);
const TARGET_SYMBOLS = 3000;
const ms = (a: number, b: number): string => `${(b - a).toFixed(0)} ms`;
const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;

interface DowTiming {
  read: number;
  panel: number;
  features: number;
  total: number;
  shape: string;
}

async function dowOnce(): Promise<DowTiming> {
  const t0 = performance.now();
  const store = await MarketDataStore.open(bundledDataPath('dowjones30.csv'));
  const t1 = performance.now();
  const panel = await store.panel();
  const t2 = performance.now();
  const fp = new FeatureBuilder().build(panel);
  const t3 = performance.now();
  await store.close();
  return {
    read: t1 - t0,
    panel: t2 - t1,
    features: t3 - t2,
    total: t3 - t0,
    shape: `${panel.symbols.length} symbols × ${panel.dates.length} days × ${fp.names.length} features`,
  };
}

function describeDow(label: string, t: DowTiming): string {
  return `Dow 30 ${label}: ${t.shape}: read CSV ${t.read.toFixed(0)} ms, panel ${t.panel.toFixed(0)} ms, features ${t.features.toFixed(0)} ms, total ${t.total.toFixed(0)} ms`;
}

/** Cold runs, each in a fresh process (module loading excluded: timed from before the CSV is opened). */
function dowCold(): void {
  const runs: DowTiming[] = [];
  for (let i = 0; i < RUNS; i++) {
    const outText = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, '--dow-once'], { encoding: 'utf8' });
    runs.push(JSON.parse(outText.trim().split('\n').pop()!) as DowTiming);
  }
  runs.sort((a, b) => a.total - b.total);
  console.log(describeDow(`cold, best of ${RUNS} fresh processes`, runs[0]!));
  console.log(describeDow(`cold, median of ${RUNS}`, runs[Math.floor(runs.length / 2)]!));
}

async function sp500(): Promise<void> {
  const t0 = performance.now();
  const store = await MarketDataStore.open(bundledDataPath('sp500_ohlcv.csv'));
  const panel = await store.panel();
  const t1 = performance.now();
  const fp = new FeatureBuilder().build(panel);
  const t2 = performance.now();
  await store.close();
  console.log(
    `S&P 500 OHLCV: ${panel.symbols.length} symbol × ${panel.dates.length} days × ${fp.names.length} features: read ${ms(t0, t1)}, features ${ms(t1, t2)}`,
  );
}

function scale(): void {
  const panel = randomPanel({ symbols: SCALE_SYMBOLS, days: DAYS, seed: 1 });
  const builder = new FeatureBuilder({ ohlcv: true });
  const F = featureCatalogue().length;
  const chunk = 50;
  const t0 = performance.now();
  let built = 0;
  for (const fp of builder.buildSymbols(panel, { chunkSize: chunk })) built += fp.symbols.length;
  const t1 = performance.now();
  const perSymbol = (t1 - t0) / built;
  const projected = (perSymbol * TARGET_SYMBOLS) / 1000;
  const full = TARGET_SYMBOLS * DAYS * F * 4;
  const prices = TARGET_SYMBOLS * DAYS * (5 * 8 + 2);
  console.log(
    `Scale: ${built} symbols × ${DAYS} days × ${F} features (OHLCV) in ${ms(t0, t1)} = ${perSymbol.toFixed(1)} ms per symbol on one core; ` +
      `${TARGET_SYMBOLS} symbols × ${DAYS} days ≈ ${projected.toFixed(0)} s`,
  );
  console.log(
    `Memory at ${TARGET_SYMBOLS} × ${DAYS}: all features at once ${gb(full)} (does not fit: stream with buildSymbols); ` +
      `one chunk of ${chunk} symbols ${gb(chunk * DAYS * F * 4)}; the OHLCV price panel ${gb(prices)} (or stream it with store.panels())`,
  );
}

async function readScale(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tft-bench-'));
  const file = join(dir, 'prices.parquet');
  try {
    const inst = await DuckDBInstance.create(':memory:');
    const conn = await inst.connect();
    const g0 = performance.now();
    await conn.run(
      `COPY (
         SELECT DATE '2000-01-03' + i::INTEGER AS date, 'S' || lpad(s::VARCHAR, 4, '0') AS symbol,
                100 * exp(sum(r) OVER (PARTITION BY s ORDER BY i)) AS close,
                100 * exp(sum(r) OVER (PARTITION BY s ORDER BY i)) * (1 + 0.002 * (random() - 0.5)) AS open,
                100 * exp(sum(r) OVER (PARTITION BY s ORDER BY i)) * (1.006 + 0.004 * random()) AS high,
                100 * exp(sum(r) OVER (PARTITION BY s ORDER BY i)) * (0.994 - 0.004 * random()) AS low,
                floor(1e5 + 1e6 * random()) AS volume
         FROM (SELECT s, i, 0.02 * (random() - 0.5) AS r FROM range(${READ_SYMBOLS}) t1(s), range(${DAYS}) t2(i))
       ) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`,
    );
    conn.closeSync();
    inst.closeSync();
    const g1 = performance.now();
    const store = await MarketDataStore.open(file);
    const t1 = performance.now();
    let days = 0;
    let symbols = 0;
    for await (const p of store.panels({ chunkSize: 256 })) {
      symbols += p.symbols.length;
      days = p.dates.length;
    }
    const t2 = performance.now();
    await store.close();
    const rows = READ_SYMBOLS * DAYS;
    const perRow = (t2 - g1) / rows;
    console.log(
      `Read: Parquet of ${rows.toLocaleString('en-US')} rows (${READ_SYMBOLS} symbols × ${DAYS} days, written in ${ms(g0, g1)}): ` +
        `open + validate ${ms(g1, t1)}, ${symbols} symbols × ${days} days streamed as panels ${ms(t1, t2)}; ` +
        `${TARGET_SYMBOLS} symbols ≈ ${((perRow * TARGET_SYMBOLS * DAYS) / 1000).toFixed(0)} s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--dow-once')) {
  console.log(JSON.stringify(await dowOnce()));
  process.exit(0);
}
printMachine();
dowCold();
await dowOnce();
console.log(describeDow('warm (second build in one process)', await dowOnce()));
await sp500();
if (SCALE_SYMBOLS > 0) scale();
if (READ_SYMBOLS > 0) await readScale();
