/**
 * `npm run bench:model-quality`: the yardstick of the default training recipe. On a family of panels —
 * synthetic trend regimes (several seeds, regime lengths and strengths), mean reversion, random walks
 * (lib/data/synthetic-prices.ts) and the bundled Dow 30 sample — `tft-native train`'s default config is
 * trained walk-forward over several training seeds, and its out-of-sample Sharpe, per fold and overall, is
 * printed beside long-only, TSMOM 21/63/126/252 and MACD on the same test days (same labels, same
 * volatility scaling). It prints what it measures, model wins or not. With two or more seeds it also prints
 * the seed ensemble: the Sharpe of the seeds' mean position (what averaging N trained models would earn).
 *
 *   --seeds N         training seeds per panel (default 5)
 *   --panels a,b      among trend-short, trend-long, trend-weak, mean-reversion, random-walk, dow30 (default all)
 *   --epochs p+f      override the default epochs (a quicker, cheaper look; the default recipe otherwise)
 *   --windows N       override windows per epoch
 *   --set a.b=v       override any config field (repeatable; v parsed as JSON when it parses), to compare a
 *                     candidate recipe against the default on the same panels and seeds
 *   --verbose         print every fold's epochs (train / validation Sharpe, the epoch kept)
 */
import { metricsFromReturns } from '../lib/training/backtest.js';
import { resolveTrainingConfig, withOverrides } from '../lib/training/config.js';
import { trainWalkForward } from '../lib/training/walk-forward.js';
import type { OosBaseline } from '../lib/training/oos-baselines.js';
import { MarketDataStore, syntheticPrices, type PricePanel } from '../lib/data/index.js';
import { printMachine } from './machine.js';
import { intFlag } from './stats.js';

const args = process.argv.slice(2);
const seeds = intFlag(args, '--seeds', 5);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const PANELS: Record<string, () => Promise<PricePanel>> = {
  'trend-short': () => Promise.resolve(syntheticPrices({ seed: 11, process: { kind: 'trend', regimeDays: 63, sharpe: 3 } })),
  'trend-long': () => Promise.resolve(syntheticPrices({ seed: 12, process: { kind: 'trend', regimeDays: 189, sharpe: 2 } })),
  'trend-weak': () => Promise.resolve(syntheticPrices({ seed: 13, process: { kind: 'trend', regimeDays: 126, sharpe: 1 } })),
  'mean-reversion': () => Promise.resolve(syntheticPrices({ seed: 14, process: { kind: 'mean-reversion', phi: 0.1 } })),
  'random-walk': () => Promise.resolve(syntheticPrices({ seed: 15, process: { kind: 'random-walk' } })),
  dow30: async () => {
    const store = await MarketDataStore.bundled();
    try {
      return await store.panel();
    } finally {
      await store.close();
    }
  },
};
const chosen = (flag('--panels') ?? Object.keys(PANELS).join(',')).split(',');

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]) => (v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)) : 0);

printMachine();
let overrides: Record<string, unknown> = { output: { saveCheckpoint: false } };
const epochs = flag('--epochs');
if (epochs) {
  const [p, f] = epochs.split('+').map(Number);
  overrides = withOverridesObj(overrides, { training: { pretrainEpochs: p, finetuneEpochs: f ?? 0 } });
}
const windows = flag('--windows');
if (windows) overrides = withOverridesObj(overrides, { training: { maxWindowsPerEpoch: Number(windows) } });
const sets = args.flatMap((a, i) => (a === '--set' ? [args[i + 1]!] : []));
for (const kv of sets) overrides = withOverridesObj(overrides, setting(kv));
const verbose = args.includes('--verbose');

/** `a.b.c=v` as a nested override object. */
function setting(kv: string): Record<string, unknown> {
  const [path, raw] = [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare string
  }
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((acc, key) => ({ [key]: acc }), value) as Record<string, unknown>;
}
process.stdout.write(
  `default training config${epochs || windows || sets.length ? ` with ${[epochs && `epochs ${epochs}`, windows && `windows ${windows}`, ...sets].filter(Boolean).join(', ')}` : ''}; ${seeds} training seeds per panel\n`,
);

function withOverridesObj(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    const nested = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object';
    out[k] = nested ? withOverridesObj(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/**
 * The Sharpe of the seeds' mean position: with costBps 0 (the default) a day's portfolio return is linear
 * in the positions, so the mean of the seeds' daily returns is the averaged positions' return (with costs
 * it would be a lower bound: averaging lowers turnover). Undefined when the seeds traded different days.
 */
function seedEnsemble(runs: { returns: Float64Array[]; all: Float64Array }[]): { folds: number[]; overall: number } | undefined {
  if (runs.length < 2) return undefined;
  const average = (series: Float64Array[]): Float64Array | undefined =>
    series.every((r) => r.length === series[0]!.length)
      ? Float64Array.from(series[0]!, (_, t) => series.reduce((a, r) => a + r[t]!, 0) / series.length)
      : undefined;
  const all = average(runs.map((r) => r.all));
  const folds = runs[0]!.returns.map((_, i) => average(runs.map((r) => r.returns[i]!)));
  if (!all || folds.some((f) => !f)) return undefined;
  return { folds: folds.map((f) => metricsFromReturns(f!, 0).sharpe), overall: metricsFromReturns(all, 0).sharpe };
}

function printEpochs(panel: string, seed: number, folds: Awaited<ReturnType<typeof trainWalkForward>>['folds']): void {
  for (const f of folds) {
    const curve = f.epochs.map((e) => `${e.phase[0]}${e.epoch}:${f2(e.trainSharpe)}/${f2(e.validationSharpe)}${e.best ? '*' : ''}`);
    process.stdout.write(
      `  ${panel} seed ${seed} fold ${f.fold.index} (train/val Sharpe, * kept): ${curve.join(' ')} → OOS ${f2(f.oos.sharpe)}\n`,
    );
  }
}

const summary: string[] = [];
for (const name of chosen) {
  const prices = await PANELS[name]!();
  const t0 = performance.now();
  const perSeed: { folds: number[]; overall: number; returns: Float64Array[]; all: Float64Array }[] = [];
  let ranges: { start: number; end: number; label: string }[] = [];
  let baselines: OosBaseline[] = [];
  for (let s = 0; s < seeds; s++) {
    const config = withOverrides(resolveTrainingConfig({}), {
      ...overrides,
      model: { ...((overrides.model as object) ?? {}), seed: s },
      training: { ...((overrides.training as object) ?? {}), seed: s },
    });
    const run = await trainWalkForward({ config, dataset: { prices } });
    run.model.dispose();
    if (verbose) printEpochs(name, s, run.folds);
    perSeed.push({
      folds: run.folds.map((f) => f.oos.sharpe),
      overall: run.oos.sharpe,
      returns: run.folds.map((f) => f.oos.returns),
      all: run.oos.returns,
    });
    baselines = run.baselines;
    ranges = run.folds.map((f) => ({
      start: f.fold.test.start,
      end: f.fold.test.end,
      label: `${f.fold.test.startDate}..${f.fold.test.endDate}`,
    }));
  }
  // The rules need no training: every seed's run backtests them on the same test days.
  const rules = baselines.map((b) => ({ rule: b.name, folds: b.folds.map((f) => f.sharpe), overall: b.overall.sharpe }));
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(
    `\n${name}: ${prices.symbols.length} assets × ${prices.dates.length} days; ${seeds} seeds in ${seconds.toFixed(0)} s\n`,
  );
  process.stdout.write(`  ${'strategy'.padEnd(16)}${ranges.map((r) => r.label.padStart(24)).join('')}${'overall'.padStart(14)}\n`);
  const foldCells = ranges.map((_, i) => {
    const v = perSeed.map((p) => p.folds[i]!);
    return `${f2(mean(v))} ± ${f2(sd(v))}`.padStart(24);
  });
  const overall = perSeed.map((p) => p.overall);
  process.stdout.write(`  ${'TFT (default)'.padEnd(16)}${foldCells.join('')}${`${f2(mean(overall))} ± ${f2(sd(overall))}`.padStart(14)}\n`);
  const ensemble = seedEnsemble(perSeed);
  if (ensemble)
    process.stdout.write(
      `  ${`ensemble of ${seeds}`.padEnd(16)}${ensemble.folds.map((v) => f2(v).padStart(24)).join('')}${f2(ensemble.overall).padStart(14)}\n`,
    );
  for (const r of rules)
    process.stdout.write(`  ${r.rule.padEnd(16)}${r.folds.map((v) => f2(v).padStart(24)).join('')}${f2(r.overall).padStart(14)}\n`);
  const bestTsmom = Math.max(...rules.filter((r) => r.rule.startsWith('tsmom')).map((r) => r.overall));
  const verdict = mean(overall) >= 0.9 * bestTsmom ? 'reaches' : 'does NOT reach';
  const line = `${name}: model ${f2(mean(overall))} ± ${f2(sd(overall))} vs best TSMOM ${f2(bestTsmom)} — ${verdict} 90% of it; ${seconds.toFixed(0)} s`;
  process.stdout.write(`  ${line}\n`);
  summary.push(line);
}
process.stdout.write(`\n${summary.join('\n')}\n`);
