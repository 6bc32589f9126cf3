/**
 * `tft-native predict` and `tft-native backtest`: a checkpoint served on a price store (lib/inference).
 * These commands parse the flags and print.
 */
import type { Command } from 'commander';
import { InvalidArgumentError as UsageError } from 'commander';

import { MarketDataStore } from '../../data/market-data-store.js';
import { backtestCheckpoint, type BacktestMetrics } from '../../inference/checkpoint-backtest.js';
import { writePositions } from '../../inference/export.js';
import { TFTInferencePipeline } from '../../inference/pipeline.js';
import { integerIn } from '../parsers.js';

interface SourceFlags {
  checkpoint?: string;
  latest?: boolean;
  modelType: string;
  root: string;
  data?: string[];
}

interface PredictFlags extends SourceFlags {
  date?: string;
  start?: string;
  end?: string;
  json?: boolean;
  out?: string;
}

interface BacktestFlags extends SourceFlags {
  start?: string;
  end?: string;
  costBps: number;
  json?: boolean;
}

const out = (s: string) => process.stdout.write(s + '\n');

async function openPipeline(f: SourceFlags): Promise<TFTInferencePipeline> {
  if (f.checkpoint && f.latest) throw new UsageError('give either --checkpoint or --latest');
  if (f.checkpoint) return TFTInferencePipeline.fromCheckpoint(f.checkpoint);
  if (f.latest) return TFTInferencePipeline.fromLatest(f.modelType, { root: f.root });
  throw new UsageError('give --checkpoint DIR or --latest');
}

async function withServing<T>(f: SourceFlags, run: (p: TFTInferencePipeline, s: MarketDataStore) => Promise<T>): Promise<T> {
  const pipeline = await openPipeline(f);
  const store = f.data ? await MarketDataStore.open(f.data) : await MarketDataStore.bundled();
  try {
    return await run(pipeline, store);
  } finally {
    await store.close();
    pipeline.dispose();
  }
}

function addSource(c: Command): Command {
  return c
    .option('--checkpoint <dir>', 'checkpoint folder')
    .option('--latest', 'the newest checkpoint of --model-type under --root')
    .option('--model-type <t>', 'model type (with --latest)', 'tft')
    .option('--root <dir>', 'checkpoint root (with --latest)', 'checkpoints')
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format (default: the bundled sample)');
}

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '–');
const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '–');

function metricsRow(name: string, m: BacktestMetrics): string {
  return `  ${name.padEnd(12)} ${num(m.sharpe).padStart(7)} ${pct(m.annualReturn).padStart(8)} ${pct(m.annualVolatility).padStart(7)} ${pct(m.maxDrawdown).padStart(8)} ${num(m.turnover, 3).padStart(8)} ${String(m.days).padStart(6)}`;
}

export function registerServe(program: Command): void {
  addSource(program.command('predict').description("a checkpoint's positions for a date or a date range"))
    .option('--date <yyyy-mm-dd>', 'the day to predict (default: the last day of the data)')
    .option('--start <yyyy-mm-dd>', 'first day of a range (with --end)')
    .option('--end <yyyy-mm-dd>', 'last day of a range')
    .option('--json', 'machine-readable output')
    .option('--out <file>', 'write positions as a table (.csv or .parquet): symbol, date, position, raw, confidence, mu, sigma')
    .action(async (f: PredictFlags) => {
      if (f.date && (f.start || f.end)) throw new UsageError('give either --date or --start/--end');
      await withServing(f, async (p, store) => {
        if (f.start || f.end || f.out) {
          const last = (
            await store.panel({ symbols: p.checkpoint.metadata.assetNames.filter((s) => store.symbols().includes(s)) })
          ).dates.at(-1)!;
          const b = await p.predictBatch({ start: f.start ?? f.date ?? last, end: f.end ?? f.date ?? last }, store);
          const table = {
            symbols: b.symbols,
            dates: b.dates,
            columns: { position: b.positions, raw: b.rawPositions, confidence: b.confidences, mu: b.mu, sigma: b.sigma },
          };
          if (f.out) {
            const rows = await writePositions(f.out, table);
            process.stderr.write(`wrote ${rows} rows (${b.symbols.length} symbols × ${b.dates.length} days) to ${f.out}\n`);
          }
          if (f.json) out(JSON.stringify({ dates: b.dates, symbols: b.symbols, positions: Array.from(b.positions), metadata: b.metadata }));
          else if (!f.out)
            out(`${b.symbols.length} symbols × ${b.dates.length} days (${b.dates[0]} … ${b.dates.at(-1)}); use --out to write them`);
          return;
        }
        const date =
          f.date ??
          (await store.panel({ symbols: p.checkpoint.metadata.assetNames.filter((s) => store.symbols().includes(s)) })).dates.at(-1)!;
        const r = await p.predict(date, store);
        if (f.json) {
          out(JSON.stringify(r, null, 2));
          return;
        }
        out(`${r.metadata.modelType} v${r.metadata.version} on ${r.date}: ${r.symbols.length} positions`);
        out('  symbol      position      raw  confidence        mu     sigma');
        r.symbols.forEach((s, i) =>
          out(
            `  ${s.padEnd(8)} ${num(r.positions[i]!, 4).padStart(11)} ${num(r.rawPositions[i]!, 4).padStart(8)} ${num(r.confidences[i]!, 3).padStart(11)} ${r.mu[i]!.toExponential(2).padStart(9)} ${r.sigma[i]!.toExponential(2).padStart(9)}`,
          ),
        );
        for (const m of r.missing) out(`  ${m.symbol.padEnd(8)} no position: ${m.reason}`);
        for (const a of r.metadata.assumed) process.stderr.write(`note: the checkpoint does not record its input spec; assumed ${a}\n`);
      });
    });

  addSource(
    program.command('backtest').description("a checkpoint's positions backtested on a range, side by side with long-only, TSMOM and MACD"),
  )
    .option('--start <yyyy-mm-dd>', 'first day (default: the checkpoint’s last test range start, else a year before the end)')
    .option('--end <yyyy-mm-dd>', 'last day (default: the last day of the data)')
    .option('--cost-bps <n>', 'cost per unit of turnover, in basis points', integerIn(0, 10_000), 0)
    .option('--json', 'machine-readable output')
    .action(async (f: BacktestFlags) => {
      await withServing(f, async (p, store) => {
        const folds = p.checkpoint.metadata.trainingInfo?.folds ?? [];
        const dates = (await store.panel({ symbols: p.checkpoint.metadata.assetNames.filter((s) => store.symbols().includes(s)) })).dates;
        const end = f.end ?? dates.at(-1)!;
        const start = f.start ?? folds.at(-1)?.test.start ?? dates[Math.max(0, dates.length - 252)]!;
        const r = await backtestCheckpoint(p, store, { start, end, costBps: f.costBps });
        if (f.json) {
          out(JSON.stringify(r, null, 2));
          return;
        }
        out(
          `backtest ${r.start} … ${r.end}, ${r.symbols.length} symbols, costs ${r.costBps} bp per unit of turnover (the same cells for every row)`,
        );
        out('  strategy      Sharpe   return     vol  max DD  turnover   days');
        out(metricsRow('model', r.model));
        for (const b of r.baselines) out(metricsRow(b.name, b.metrics));
        out(
          r.beatenBy.length === 0
            ? 'the model has the best Sharpe ratio of these on this range'
            : `the model LOSES to ${r.beatenBy.join(', ')} on Sharpe ratio over this range`,
        );
      });
    });
}
