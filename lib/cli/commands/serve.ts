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
import { writeSignals } from '../../strategy/signal-export.js';
import { TFTStrategy } from '../../strategy/tft-strategy.js';
import { integerIn, oneOf } from '../parsers.js';

interface SourceFlags {
  checkpoint?: string;
  latest?: boolean;
  modelType: string;
  root: string;
  data?: string[];
  device: 'cpu' | 'cuda';
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

interface SignalFlags extends SourceFlags {
  date?: string;
  threshold: number;
  json?: boolean;
  out?: string;
}

const out = (s: string) => process.stdout.write(s + '\n');

function nonNegative(v: string): number {
  const x = Number(v);
  if (!/^\s*[\d.]+\s*$/.test(v) || !(x >= 0)) throw new UsageError(`must be a number >= 0, got '${v}'`);
  return x;
}

async function lastDay(p: TFTInferencePipeline, store: MarketDataStore): Promise<string> {
  return (await p.calendar(store)).at(-1)!;
}

async function openPipeline(f: SourceFlags): Promise<TFTInferencePipeline> {
  if (f.checkpoint && f.latest) throw new UsageError('give either --checkpoint or --latest');
  if (f.checkpoint) return TFTInferencePipeline.fromCheckpoint(f.checkpoint, { device: f.device });
  if (f.latest) return TFTInferencePipeline.fromLatest(f.modelType, { root: f.root, device: f.device });
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
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format (default: the bundled sample)')
    .option('--device <d>', 'where the model runs: cpu or cuda', oneOf(['cpu', 'cuda'] as const), 'cpu');
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
          const last = await lastDay(p, store);
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
        const date = f.date ?? (await lastDay(p, store));
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
    program.command('signals').description('the signals of a checkpoint for a date: where |position| exceeds the conviction threshold'),
  )
    .option('--date <yyyy-mm-dd>', 'the day (default: the last day of the data)')
    .option('--threshold <x>', 'conviction threshold on |position|', nonNegative, 0.3)
    .option('--json', 'machine-readable output')
    .option('--out <file>', 'write the signals as a table (.csv or .parquet)')
    .action(async (f: SignalFlags) => {
      if (f.checkpoint && f.latest) throw new UsageError('give either --checkpoint or --latest');
      if (!f.checkpoint && !f.latest) throw new UsageError('give --checkpoint DIR or --latest');
      const strategy = new TFTStrategy({
        ...(f.checkpoint ? { checkpoint: f.checkpoint } : { latest: { modelType: f.modelType, root: f.root } }),
        convictionThreshold: f.threshold,
        device: f.device,
      });
      const store = f.data ? await MarketDataStore.open(f.data) : await MarketDataStore.bundled();
      try {
        const p = await strategy.pipeline();
        const date = f.date ?? (await lastDay(p, store));
        const signals = await strategy.scan(date, store);
        if (f.out) process.stderr.write(`wrote ${await writeSignals(f.out, signals)} signals to ${f.out}\n`);
        if (f.json) out(JSON.stringify(signals, null, 2));
        else if (!f.out) {
          out(`${strategy.id} on ${date}: ${signals.length} signals (|position| > ${f.threshold})`);
          for (const s of signals)
            out(
              `  ${s.symbol.padEnd(8)} ${s.direction.padEnd(5)} ${num(s.targetPosition, 4).padStart(8)}  confidence ${num(s.confidence, 3)}`,
            );
        }
      } finally {
        await store.close();
        strategy.dispose();
      }
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
        const r = await backtestCheckpoint(p, store, { start: f.start, end: f.end, costBps: f.costBps });
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
