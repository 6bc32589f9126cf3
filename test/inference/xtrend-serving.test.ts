/**
 * X-Trend models outside the trainer: the ContextSampler draws what the native trainer draws (unbounded
 * pool), only sequences that end before the window and inside the pool, the same ones wherever the read
 * began; a trained X-Trend checkpoint serves (predict(d) = predictBatch on d, causal on real data) and
 * explains (Integrated Gradients complete, the full analysis runs) with those context sets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  analyzeCheckpoint,
  CheckpointManager,
  ContextSampler,
  dateKey,
  DataError,
  explainCheckpoint,
  MarketDataStore,
  resolveTrainingConfig,
  saveTrainingCheckpoint,
  TFTInferencePipeline,
  TFTModel,
  Trainer,
  trainWalkForward,
  type PricePanel,
  type TrainingResult,
} from '../../lib/index.js';
import { randn } from '../helpers/random.js';

const A = 4;
const D = 300;
const F = 3;

/** Features with a few non-finite rows, so candidates have gaps. */
function panelValues(seed: number): Float32Array {
  const v = randn(A * D * F, seed);
  for (const [a, t] of [
    [0, 40],
    [1, 41],
    [2, 150],
    [3, 10],
  ] as const)
    v[(a * D + t) * F + 1] = Number.NaN;
  return v;
}

describe('ContextSampler', () => {
  it("draws the native trainer's context sets when the pool is unbounded", () => {
    const values = panelValues(1);
    const model = TFTModel.create({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: 15, nContext: 4, seed: 3 });
    const target = new Float32Array(A * D).fill(0.01);
    const trainer = new Trainer(model, { features: values, assets: A, days: D, target }, { window: 15, contextLen: 10, seed: 77 });
    const sampler = new ContextSampler({ values, assets: A, days: D, features: F }, 4, { len: 10, poolDays: Infinity, seed: 77 });
    try {
      for (const [first, key] of [
        [20, 0],
        [60, 5],
        [151, 20260102],
        [280, 3],
      ] as const) {
        const native = trainer.sampleContext(first, key);
        const mine = sampler.sample(first, key);
        const pairs = Array.from(mine.assets, (a, k) => [a, mine.lastDays[k]!]).flat();
        expect(pairs).toEqual(Array.from(native.pairs));
      }
    } finally {
      trainer.dispose();
      model.dispose();
    }
  });

  it('draws only finite sequences ending in the pool before the window, the same ones wherever the panel starts', () => {
    const values = panelValues(2);
    const spec = { len: 10, poolDays: 30, seed: 5 };
    const sampler = new ContextSampler({ values, assets: A, days: D, features: F }, 6, spec);
    // The same days with the first 50 cut off: indices shift, the sequences drawn must not.
    const cut = 50;
    const later = new Float32Array(A * (D - cut) * F);
    for (let a = 0; a < A; a++) later.set(values.subarray((a * D + cut) * F, (a + 1) * D * F), a * (D - cut) * F);
    const shifted = new ContextSampler({ values: later, assets: A, days: D - cut, features: F }, 6, spec);
    for (const first of [100, 160, 299]) {
      const s = sampler.sample(first, dateKey('2001-02-03'));
      for (let k = 0; k < 6; k++) {
        expect(s.lastDays[k]).toBeLessThan(first);
        expect(s.lastDays[k]).toBeGreaterThanOrEqual(first - spec.poolDays);
      }
      expect(s.values.every(Number.isFinite)).toBe(true);
      const t = shifted.sample(first - cut, dateKey('2001-02-03'));
      expect(Array.from(t.lastDays, (d) => d + cut)).toEqual(Array.from(s.lastDays));
      expect(t.values).toEqual(s.values);
      // another date draws another set
      expect(Array.from(sampler.sample(first, dateKey('2001-02-04')).lastDays)).not.toEqual(Array.from(s.lastDays));
    }
    expect(sampler.poolSize(5)).toBe(0);
    expect(() => sampler.sample(5, 1)).toThrow(DataError);
    expect(dateKey('2026-12-03')).toBe(20261203);
  });
});

describe('serving and explaining an X-Trend checkpoint', () => {
  const SYMBOLS = ['AA', 'IBM', 'MSFT', 'KO'];
  let dir: string;
  let ckpt: string;
  let run: TrainingResult;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tft-xtrend-'));
    const config = resolveTrainingConfig({
      data: { symbols: SYMBOLS },
      features: { groups: ['rsi', 'ewma_vol'] },
      model: { dHidden: 8, nHeads: 2, seqLen: 21, seed: 2, nContext: 3, contextLen: 10 },
      training: { pretrainEpochs: 1, finetuneEpochs: 1, maxWindowsPerEpoch: 128 },
      folds: { count: 1, testDays: 126, validationDays: 63 },
      output: { checkpointRoot: path.join(dir, 'ckpt') },
    });
    run = await trainWalkForward({ config });
    ckpt = await saveTrainingCheckpoint(run, new CheckpointManager(path.join(dir, 'ckpt')), { gitCommit: null });
  }, 300_000);
  afterAll(() => {
    run?.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records how serving draws context sets, and predict(d) equals predictBatch on d', async () => {
    const p = await TFTInferencePipeline.fromCheckpoint(ckpt);
    expect(p.spec.context).toEqual({ len: 10, poolDays: 252, seed: 0 });
    expect(p.metadata.assumed).toEqual([]);
    const store = await MarketDataStore.bundled();
    const r = await p.predict('2000-06-15', store);
    expect(r.symbols).toEqual(SYMBOLS);
    expect(r.positions.every((x) => Number.isFinite(x) && Math.abs(x) <= 1)).toBe(true);
    const b = await p.predictBatch({ start: '2000-06-01', end: '2000-06-30' }, store);
    const t = b.dates.indexOf('2000-06-15');
    SYMBOLS.forEach((_, a) => expect(Math.abs(r.positions[a]! - b.positions[a * b.dates.length + t]!)).toBeLessThan(1e-6));
    expect(Array.from(b.positions).every(Number.isFinite)).toBe(true);
    await store.close();
    p.dispose();
  });

  it('is causal: prices after d change nothing on d (real data)', async () => {
    const p = await TFTInferencePipeline.fromCheckpoint(ckpt);
    const store = await MarketDataStore.bundled();
    const d = '1999-03-10';
    const before = await p.predict(d, store);
    const prices = await store.panel({ symbols: SYMBOLS });
    await store.close();
    const t = prices.dates.indexOf(d);
    const close = prices.close.slice();
    for (let a = 0; a < SYMBOLS.length; a++) for (let k = t + 1; k < prices.dates.length; k++) close[a * prices.dates.length + k]! *= 1.5;
    const changed: PricePanel = { ...prices, close };
    const tmp = path.join(dir, 'changed.csv');
    const lines = ['date,symbol,close'];
    changed.symbols.forEach((s, a) =>
      changed.dates.forEach((date, k) => {
        const c = changed.close[a * changed.dates.length + k]!;
        if (Number.isFinite(c)) lines.push(`${date},${s},${c}`);
      }),
    );
    (await import('node:fs')).writeFileSync(tmp, lines.join('\n'));
    const other = await MarketDataStore.open(tmp);
    const after = await p.predict(d, other);
    await other.close();
    expect(after.positions).toEqual(before.positions);
    p.dispose();
  });

  it('explains with context sets: DeepLift is complete, Integrated Gradients converges, the analysis runs', async () => {
    const c = await CheckpointManager.loadDirectory(ckpt);
    try {
      // DeepLift's completeness is exact, so it holds only if both of its passes saw the window's own context set.
      const dl = await explainCheckpoint({ checkpoint: c, method: 'deepLift', days: 3 });
      expect(dl.windows).toBe(3 * SYMBOLS.length);
      expect(dl.ranking.length).toBe(c.metadata.featureNames.length);
      expect(dl.maxAbsDelta!).toBeLessThan(1e-4);
      const coarse = await explainCheckpoint({ checkpoint: c, method: 'integratedGradients', days: 3, nSteps: 8 });
      const fine = await explainCheckpoint({ checkpoint: c, method: 'integratedGradients', days: 3, nSteps: 256 });
      // Integrated Gradients converges to completeness as its steps grow.
      expect(fine.maxAbsDelta!).toBeLessThan(1e-3);
      expect(fine.maxAbsDelta!).toBeLessThan(coarse.maxAbsDelta!);
      const a = await analyzeCheckpoint({ checkpoint: c, samples: 8, methods: ['integratedGradients', 'saliency'] });
      expect(a.rankings.overall.length).toBe(c.metadata.featureNames.length);
      expect(a.windows).toBe(8);
      expect(Number.isFinite(a.consensus!.meanCorrelation)).toBe(true);
      expect(Number.isFinite(a.quality.infidelity!)).toBe(true);
    } finally {
      c.model.dispose();
    }
  });
});
