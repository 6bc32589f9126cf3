/**
 * Serving a checkpoint: the round trip train → checkpoint → pipeline reproduces the run's own OOS returns,
 * predict(d) equals predictBatch on d, changing prices after d changes nothing on d (real data), missing
 * symbols are reported, sizing and confidence follow their formulas, bad specs are typed errors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  backtest,
  buildTargets,
  bundledDataPath,
  confidenceOf,
  convictionOf,
  DataError,
  InvalidArgumentError,
  MarketDataStore,
  normalCdf,
  resolveTrainingConfig,
  saveTrainingCheckpoint,
  sizePositions,
  TFTInferencePipeline,
  trainWalkForward,
  CheckpointManager,
  type TrainingResult,
} from '../../lib/index.js';

const SYMBOLS = ['AA', 'IBM', 'MSFT', 'KO'];
let dir: string;
let ckpt: string;
let run: TrainingResult;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tft-inference-'));
  const config = resolveTrainingConfig({
    data: { symbols: SYMBOLS },
    features: { groups: ['rsi', 'ewma_vol'] },
    model: { dHidden: 8, nHeads: 2, seqLen: 21, seed: 2 },
    training: { pretrainEpochs: 1, finetuneEpochs: 1, maxWindowsPerEpoch: 256 },
    folds: { count: 2, testDays: 126, validationDays: 63 },
    output: { checkpointRoot: path.join(dir, 'ckpt') },
  });
  run = await trainWalkForward({ config });
  ckpt = await saveTrainingCheckpoint(run, new CheckpointManager(path.join(dir, 'ckpt')), { gitCommit: null });
}, 300_000);

afterAll(() => run?.model.dispose());

describe('TFTInferencePipeline', () => {
  it("reproduces the training run's out-of-sample returns on the last fold's test range", async () => {
    const p = await TFTInferencePipeline.fromCheckpoint(ckpt);
    const store = await MarketDataStore.bundled();
    const fold = run.folds.at(-1)!.fold;
    const b = await p.predictBatch({ start: fold.test.startDate, end: fold.test.endDate }, store);
    expect(b.symbols).toEqual(SYMBOLS);
    expect(b.dates[0]).toBe(fold.test.startDate);
    expect(b.dates.at(-1)).toBe(fold.test.endDate);
    // the same backtest the run did, on the pipeline's positions
    const prices = await store.panel({ symbols: SYMBOLS });
    const labels = buildTargets(prices, { horizons: [1] });
    const D = prices.dates.length;
    const position = new Float32Array(SYMBOLS.length * D).fill(Number.NaN);
    const t0 = prices.dates.indexOf(b.dates[0]!);
    for (let a = 0; a < SYMBOLS.length; a++)
      position.set(b.rawPositions.subarray(a * b.dates.length, (a + 1) * b.dates.length), a * D + t0);
    const m = backtest({
      position,
      target: labels.scaledNextDayReturn,
      scale: labels.leverage,
      assets: SYMBOLS.length,
      days: D,
      start: fold.test.start,
      end: fold.test.end,
    });
    const want = run.folds.at(-1)!.oos.returns;
    expect(m.returns.length).toBe(want.length);
    let worst = 0;
    m.returns.forEach((r, i) => (worst = Math.max(worst, Math.abs(r - want[i]!))));
    expect(worst).toBeLessThan(1e-6);
    expect(b.metadata.assumed).toEqual([]);
    await store.close();
    p.dispose();
  });

  it('predict(d) equals predictBatch on d, reports what it lacks, and carries every field', async () => {
    const p = await TFTInferencePipeline.fromCheckpoint(ckpt);
    const store = await MarketDataStore.bundled();
    const r = await p.predict('2000-06-15', store);
    expect(r.date).toBe('2000-06-15');
    expect(r.symbols).toEqual(SYMBOLS);
    const b = await p.predictBatch({ start: '2000-06-01', end: '2000-06-30' }, store);
    const t = b.dates.indexOf('2000-06-15');
    SYMBOLS.forEach((s, a) => {
      expect(Math.abs(r.positions[a]! - b.positions[a * b.dates.length + t]!)).toBeLessThan(1e-6);
      // a Sharpe-loss model's confidence is its conviction
      expect(p.confidenceSource).toBe('conviction');
      expect(r.confidences[a]).toBeCloseTo(convictionOf(r.rawPositions[a]!, 1), 6);
    });
    expect(r.featureImportance[0]!.length).toBe(r.featureNames.length);
    expect(r.featureImportance[0]!.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
    expect(r.metadata).toMatchObject({ modelType: 'tft', nFeatures: r.featureNames.length });
    // a date before any full window: every symbol is reported, none served as 0
    const early = await p.predict('1991-01-15', store);
    expect(early.symbols).toEqual([]);
    expect(early.missing.map((m) => m.symbol)).toEqual(SYMBOLS);
    expect(early.missing[0]!.reason).toBe('too little history or non-finite features');
    await expect(p.predict('2000-06-17', store)).rejects.toBeInstanceOf(DataError); // a Saturday
    await expect(p.predict('June 1', store)).rejects.toBeInstanceOf(InvalidArgumentError);
    await store.close();
    p.dispose();
  });

  it('is causal: prices after d change nothing on d (real data)', async () => {
    const p = await TFTInferencePipeline.fromCheckpoint(ckpt);
    const rows = readFileSync(bundledDataPath(), 'utf8').trim().split('\n');
    const header = rows[0]!;
    const d = '1999-03-10';
    const changed = rows.slice(1).map((line) => {
      const [date, symbol, close] = line.split(',');
      return date! > d ? `${date},${symbol},${(Number(close) * (1.5 + Math.sin(date!.length + Number(close)))).toFixed(4)}` : line;
    });
    const file = path.join(dir, 'changed.csv');
    writeFileSync(file, [header, ...changed].join('\n') + '\n');
    const a = await MarketDataStore.bundled();
    const b = await MarketDataStore.open(file);
    const ra = await p.predict(d, a);
    const rb = await p.predict(d, b);
    expect(rb.positions).toEqual(ra.positions);
    expect(rb.mu).toEqual(ra.mu);
    const later = await p.predict('1999-06-10', b);
    expect(later.positions).not.toEqual((await p.predict('1999-06-10', a)).positions);
    await a.close();
    await b.close();
    p.dispose();
  });
});

describe('position sizing and confidence', () => {
  it('clip, volatility scaling and smoothing in date order, restarting after a gap', () => {
    const raw = Float32Array.from([0.5, -0.9, Number.NaN, 0.2]);
    const s = sizePositions(raw, 1, 4, { maxPosition: 0.8, volTarget: null, smoothing: 0.5 });
    expect(Array.from(s)).toEqual([0.5, Math.fround(0.5 * 0.5 + 0.5 * -0.8), Number.NaN, Math.fround(0.2)]);
    const v = sizePositions(
      Float32Array.from([0.5, 0.5]),
      1,
      2,
      { maxPosition: 1, volTarget: 0.1, smoothing: 0 },
      Float32Array.from([2, 0.5]),
    );
    expect(Array.from(v)).toEqual([1, 0.25]);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(confidenceOf(0, 1)).toBeCloseTo(0, 7);
    expect(confidenceOf(1.959964, 1)).toBeCloseTo(0.95, 6);
    expect(confidenceOf(-1.959964, 1)).toBeCloseTo(0.95, 6);
    expect(Number.isNaN(confidenceOf(1, 0))).toBe(true);
  });
  it("loads onto the GPU when asked: the CPU's positions there, a typed error where there is none", async () => {
    const { capabilities, CudaUnavailableError } = await import('../../lib/index.js');
    if (capabilities().torchCudaDevices === 0) {
      await expect(TFTInferencePipeline.fromCheckpoint(ckpt, { device: 'cuda' })).rejects.toBeInstanceOf(CudaUnavailableError);
      return;
    }
    const store = await MarketDataStore.bundled();
    const cpu = await TFTInferencePipeline.fromCheckpoint(ckpt);
    const gpu = await TFTInferencePipeline.fromCheckpoint(ckpt, { device: 'cuda' });
    const a = await cpu.predict('2000-06-15', store);
    const b = await gpu.predict('2000-06-15', store);
    a.positions.forEach((v, i) => expect(Math.abs(v - b.positions[i]!)).toBeLessThan(1e-4));
    cpu.dispose();
    gpu.dispose();
    await store.close();
  });
  it('bad overrides are typed errors', async () => {
    await expect(TFTInferencePipeline.fromCheckpoint(ckpt, { positionSizing: { smoothing: 1 } })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(TFTInferencePipeline.fromCheckpoint(ckpt, { positionSizing: { volTarget: -1 } })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});

describe('tft-native predict and backtest', () => {
  it('predict for a date (text and JSON), a range to CSV and Parquet; backtest side by side with the rules', async () => {
    const { runCli } = await import('../helpers/cli.js');
    const text = await runCli(['predict', '--checkpoint', ckpt, '--date', '2000-06-15']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^tft v\d+ on 2000-06-15: 4 positions/m);
    const json = await runCli(['predict', '--checkpoint', ckpt, '--date', '2000-06-15', '--json']);
    const r = JSON.parse(json.out) as { symbols: string[]; positions: number[]; confidences: number[] };
    expect(r.symbols).toEqual(SYMBOLS);
    const csv = path.join(dir, 'pos.csv');
    const range = await runCli(['predict', '--checkpoint', ckpt, '--start', '2000-06-01', '--end', '2000-06-30', '--out', csv]);
    expect(range.code).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('symbol,date,position,raw,confidence,mu,sigma');
    const june15 = lines.find((l) => l.startsWith('AA,2000-06-15,'))!;
    expect(Number(june15.split(',')[2])).toBeCloseTo(r.positions[0]!, 6);
    const pq = path.join(dir, 'pos.parquet');
    expect((await runCli(['predict', '--checkpoint', ckpt, '--start', '2000-06-01', '--end', '2000-06-30', '--out', pq])).code).toBe(0);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const rows = (await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${pq}')`)).getRowObjects();
    expect(rows[0]!.n).toBe(lines.length - 1);
    con.closeSync();
    db.closeSync();
    const bt = await runCli(['backtest', '--checkpoint', ckpt, '--json', '--cost-bps', '2']);
    expect(bt.code).toBe(0);
    const b = JSON.parse(bt.out) as {
      model: { days: number; sharpe: number };
      baselines: { name: string; metrics: { days: number } }[];
      beatenBy: string[];
    };
    expect(b.baselines.map((x) => x.name)).toEqual(['long-only', 'tsmom-21', 'tsmom-63', 'tsmom-126', 'tsmom-252', 'macd']);
    for (const x of b.baselines) expect(x.metrics.days).toBe(b.model.days); // the same days for every row
    const btText = await runCli(['backtest', '--checkpoint', ckpt]);
    expect(btText.out).toMatch(/^ {2}model .*\n {2}long-only /m);
    expect(btText.out).toMatch(/the model (has the best Sharpe ratio|LOSES to )/);
    expect((await runCli(['predict', '--date', '2000-06-15'])).code).toBe(2); // no checkpoint named
    expect((await runCli(['predict', '--checkpoint', ckpt, '--date', '2000-06-17'])).code).toBe(1); // not a trading day
    expect((await runCli(['predict', '--checkpoint', ckpt, '--out', path.join(dir, 'x.txt')])).code).toBe(1);
  }, 120_000);
});

describe('TFTStrategy, the registry and signal export', () => {
  it('loads lazily, emits signals only above the threshold with every field, maps onto Lean and nautilus', async () => {
    const { TFTStrategy, StrategyRegistry, createStrategy, toLeanInsight, toNautilusSignal, writeSignals, NotFoundError } =
      await import('../../lib/index.js');
    const store = await MarketDataStore.bundled();
    const s = new TFTStrategy({ checkpoint: ckpt, convictionThreshold: 0.2 });
    expect(s.loaded).toBe(false);
    const registry = new StrategyRegistry().add(s);
    const signals = await s.scan('2000-06-15', store);
    expect(s.loaded).toBe(true);
    const version = (await s.pipeline()).metadata.version;
    expect(s.id).toBe(`s_tft_tft_v${version}`);
    expect(registry.get(s.id)).toBe(s);
    const all = await (await s.pipeline()).predict('2000-06-15', store);
    const above = all.symbols.filter((_, i) => Math.abs(all.positions[i]!) > 0.2);
    expect(signals.map((x) => x.symbol)).toEqual(above);
    for (const x of signals) {
      expect(Object.keys(x).sort()).toEqual(
        [
          'checkpointVersion',
          'confidence',
          'createdAt',
          'date',
          'direction',
          'expectedReturn',
          'horizonDays',
          'modelType',
          'rawPosition',
          'strategyId',
          'symbol',
          'targetPosition',
        ].sort(),
      );
      expect(x.direction).toBe(x.targetPosition > 0 ? 'long' : 'short');
      expect(x.strategyId).toBe(s.id);
      const lean = toLeanInsight(x);
      expect(lean.Direction).toBe(x.direction === 'long' ? 'Up' : 'Down');
      expect(lean.Weight).toBe(x.targetPosition);
      expect(toNautilusSignal(x).ts_event).toBe(BigInt(Date.parse('2000-06-15T00:00:00Z')) * 1_000_000n);
    }
    const strict = createStrategy({ kind: 'tft', checkpoint: ckpt, convictionThreshold: 0.99 });
    expect((await strict.scan('2000-06-15', store)).every((x) => Math.abs(x.targetPosition) > 0.99)).toBe(true);
    expect(() => createStrategy({ kind: 'nope' })).toThrow(NotFoundError);
    expect(() => registry.get('s_missing')).toThrow(NotFoundError);
    expect(() => new TFTStrategy({})).toThrow(InvalidArgumentError);
    const file = path.join(dir, 'signals.csv');
    expect(await writeSignals(file, signals)).toBe(signals.length);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe(
      'symbol,date,direction,targetPosition,rawPosition,confidence,expectedReturn,horizonDays,strategyId,modelType,checkpointVersion,createdAt',
    );
    const cli = await (
      await import('../helpers/cli.js')
    ).runCli(['signals', '--checkpoint', ckpt, '--date', '2000-06-15', '--threshold', '0.2', '--json']);
    expect((JSON.parse(cli.out) as unknown[]).length).toBe(signals.length);
    strict.dispose?.();
    registry.dispose();
    await store.close();
  });
});
