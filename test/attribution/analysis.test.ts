/**
 * The attribution analysis: every metric on a hand-worked case, the analyzer on a model that provably
 * ignores features (dead, exactly zero) and on a model trained on a panel with planted features (they rank
 * top under every method, the methods agree), infidelity and sensitivity against their alternatives, the
 * health bands and their YAML, typed errors.
 */
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  applyNormalization,
  assessHealth,
  AttributionAnalyzer,
  concentration,
  consistencyAcrossRows,
  DEFAULT_HEALTH_THRESHOLDS,
  DeadFeatureTracker,
  deadFeatureBand,
  Explainer,
  featureRankings,
  formatAnalysis,
  healthThresholdsFrom,
  importanceShares,
  infidelity,
  infidelityFromPerturbations,
  InvalidArgumentError,
  loadHealthThresholds,
  maxRelativeChange,
  normalizedScores,
  resolveTrainingConfig,
  SchemaError,
  sensitivityMax,
  sparsity,
  syntheticDataset,
  TFTModel,
  totalVariation,
  trainWalkForward,
} from '../../lib/index.js';
import { trainedLike } from '../helpers/models.js';
import { randn } from '../helpers/random.js';

const T = 8;
const F = 6;

describe('quality metrics, by hand', () => {
  const I = [4, 2, 1, 1];
  it('normalised scores, shares, sparsity and the normalised HHI', () => {
    expect(Array.from(normalizedScores(I))).toEqual([1, 0.5, 0.25, 0.25]);
    expect(Array.from(importanceShares(I))).toEqual([0.5, 0.25, 0.125, 0.125]);
    expect(sparsity(I, 0.3)).toBe(0.5);
    expect(sparsity(I)).toBe(0); // nothing ten times below the top
    // HHI = 0.25 + 0.0625 + 2 · 0.015625 = 0.34375; (0.34375 − 1/4) / (1 − 1/4) = 0.125
    expect(concentration(I)).toBeCloseTo(0.125, 12);
    expect(concentration([1, 1, 1])).toBeCloseTo(0, 12);
    expect(concentration([0, 5, 0])).toBeCloseTo(1, 12);
  });
  it('rankings by group with shares and top-N', () => {
    const r = featureRankings(I, ['a', 'b', 'c', 'd'], ['g1', 'g2', 'g1', 'g2'], 1);
    expect(r.overall.map((f) => f.feature)).toEqual(['a', 'b', 'c', 'd']);
    expect(r.byGroup).toEqual([
      { group: 'g1', share: 0.625, features: [{ feature: 'a', score: 1 }] },
      { group: 'g2', share: 0.375, features: [{ feature: 'b', score: 0.5 }] },
    ]);
  });
  it('infidelity (Captum formula) and its normalised form', () => {
    // x: one window of 2 cells, A = [1, 2], F(x) = 3; perturbations I = e1, e2 with F(x − I) = 2.5, 1
    const a = { attributions: new Float32Array([1, 2]), outputs: new Float32Array([3]), batch: 1, steps: 1, features: 2 };
    const I2 = new Float32Array([1, 0, 0, 1]);
    // dots 1, 2; ΔF 0.5, 2 → ((1 − 0.5)² + 0²) / 2
    expect(infidelityFromPerturbations(a, I2, [2.5, 1], 2, false)[0]).toBeCloseTo(0.125, 12);
    // β = (0.5 + 4) / (1 + 4) = 0.9 → (0.81·5 − 2·0.9·4.5 + 4.25) / 2
    expect(infidelityFromPerturbations(a, I2, [2.5, 1], 2, true)[0]).toBeCloseTo(0.1, 12);
  });
  it('max-sensitivity: the worst relative change over the copies', () => {
    const base = new Float32Array([3, 4]);
    const copies = new Float32Array([3, 4, 3, 5, 0, 0]);
    expect(maxRelativeChange(base, copies, 1, 3)[0]).toBeCloseTo(1, 12); // ‖(−3, −4)‖ / ‖(3, 4)‖
  });
  it('pattern consistency is 1 − mean total variation', () => {
    expect(totalVariation([1, 0], [0, 1])).toBe(1);
    expect(consistencyAcrossRows([Float64Array.of(1, 0), Float64Array.of(0, 1)], 2)).toBe(0.5);
    expect(consistencyAcrossRows([Float64Array.of(0.3, 0.7), Float64Array.of(0.3, 0.7)], 2)).toBe(1);
  });
  it('dead features need a long enough history, and every analysis of it must agree', () => {
    const d = new DeadFeatureTracker(['a', 'b', 'c'], ['g', 'g', 'h']);
    d.record([1, 0.001, 0.2], 100);
    expect(d.report({ minWindows: 200 }).sufficientHistory).toBe(false);
    expect(d.report({ minWindows: 200 }).features).toEqual([]);
    d.record([1, 0.004, 0.001], 150);
    const r = d.report({ minWindows: 200 });
    expect(r.sufficientHistory).toBe(true);
    expect(r.features).toEqual(['b']); // c mattered in the older analysis
    expect(r.byGroup).toEqual({ g: ['b'], h: [] });
    expect(d.report({ minWindows: 100 }).features).toEqual(['b', 'c']); // the newest analysis alone
    expect([5, 6, 15, 16].map(deadFeatureBand)).toEqual(['healthy', 'review', 'review', 'problem']);
  });
  it('typed errors for bad importances and thresholds', () => {
    expect(() => sparsity([])).toThrow(InvalidArgumentError);
    expect(() => concentration([1, Number.NaN])).toThrow(InvalidArgumentError);
    expect(() => concentration([1, -1])).toThrow(InvalidArgumentError);
    expect(() => sparsity([1, 2], 0)).toThrow(InvalidArgumentError);
    expect(() => featureRankings([1], ['a', 'b'], ['g'])).toThrow(InvalidArgumentError);
  });
});

describe('health bands', () => {
  it("the seed's bands, and the YAML that overrides them", () => {
    const h = assessHealth({
      consensus: 0.8,
      sparsity: 0.3,
      concentration: 0.2,
      infidelity: 0.01,
      sensitivity: 0.2,
      maxFeatureShare: 0.5,
      deadFeatures: 7,
    });
    const level = Object.fromEntries(h.map((c) => [c.metric, c.level]));
    expect(level).toEqual({
      consensus: 'good',
      sparsity: 'good',
      concentration: 'good',
      infidelity: 'good',
      sensitivity: 'warn',
      maxFeatureShare: 'good',
      deadFeatures: 'warn',
    });
    const bad = assessHealth({ consensus: 0.2, sparsity: 0.05, concentration: 0.7, maxFeatureShare: 0.97, gradientProblems: 2 });
    expect(bad.map((c) => c.level)).toEqual(['bad', 'warn', 'bad', 'bad', 'bad']);
    const t = healthThresholdsFrom({ attribution_health: { consensus: { high: 0.8 }, dead_features: { problem: 30 } } });
    expect(t.consensus).toEqual({ high: 0.8, low: 0.4 });
    expect(t.deadFeatures).toEqual({ review: 6, problem: 30 });
    expect(() => healthThresholdsFrom({ attribution_health: { consensos: {} } })).toThrow(SchemaError);
    expect(loadHealthThresholds(path.join(import.meta.dirname, '../../configs/attribution_health.yaml'))).toEqual(
      DEFAULT_HEALTH_THRESHOLDS,
    );
  });
});

describe('AttributionAnalyzer on a model that cannot see some features', () => {
  // Features 3..5 enter only through their prescalers: zeroed, the model provably ignores them.
  const model = trainedLike({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: T }, 3);
  const state = model.stateDict();
  const pre = state.get('vsn.prescalers.weight')!;
  const d = pre.data.length / F;
  for (let f = 3; f < F; f++) pre.data.fill(0, f * d, (f + 1) * d);
  model.loadStateDict(state);
  const names = ['a', 'b', 'c', 'x', 'y', 'z'];
  const B = 12;
  const input = { x: randn(B * T * F, 5), batch: B };

  it('reports them dead, with exactly zero gradient attributions, and every number present', async () => {
    const analyzer = new AttributionAnalyzer(model, {
      featureNames: names,
      groups: { a: 'seen', b: 'seen', c: 'seen', x: 'blind', y: 'blind', z: 'blind' },
      methods: ['ig', 'gradshap', 'deeplift', 'saliency'],
      nSteps: 16,
      deadFeatures: { minWindows: 10 },
      seed: 1,
    });
    const a = await analyzer.analyze(input);
    for (const m of a.methods) for (let f = 3; f < F; f++) expect(m.featureImportance[f]).toBe(0);
    expect(a.deadFeatures.sufficientHistory).toBe(true);
    expect(a.deadFeatures.features).toEqual(['x', 'y', 'z']);
    expect(a.deadFeatures.byGroup).toEqual({ seen: [], blind: ['x', 'y', 'z'] });
    expect(a.rankings.byGroup[0]!.group).toBe('seen');
    expect(a.rankings.byGroup[0]!.share).toBeCloseTo(1, 12);
    expect(a.quality.sparsity).toBeGreaterThanOrEqual(0.5);
    expect(a.consensus!.methods).toHaveLength(4);
    expect(a.quality.infidelity).toBeGreaterThan(0);
    expect(a.quality.sensitivity).toBeGreaterThan(0);
    expect(a.vsnStability.acrossWindows).toBeGreaterThan(0);
    expect(a.vsnStability.acrossAnalyses).toBeUndefined();
    expect(a.health.map((h) => h.metric)).toContain('deadFeatures');
    const again = await analyzer.analyze(input);
    expect(again.vsnStability.acrossAnalyses).toBeCloseTo(1, 6); // the same buffer: the same pattern
    expect(formatAnalysis(a).join('\n')).toMatch(/Attribution consensus: [-\d.]+[\s\S]*Dead features: 3 \(healthy\): x, y, z/);
    // the analysis is plain data (the report and the run log store it)
    expect(JSON.parse(JSON.stringify(a)).quality.sparsity).toBe(a.quality.sparsity);
  });

  it('compareDecisions ranks the features whose attribution changed most, with signs', async () => {
    const analyzer = new AttributionAnalyzer(model, {
      featureNames: names,
      methods: ['ig'],
      nSteps: 16,
      sensitivity: false,
      infidelity: false,
    });
    const one = { x: input.x.slice(0, T * F), batch: 1 };
    const shifted = one.x.slice();
    for (let t = 0; t < T; t++) shifted[t * F + 1]! += 2; // move feature b only
    const c = await analyzer.compareDecisions(one, { x: shifted, batch: 1 });
    expect(c.features[0]!.feature).toBe('b');
    expect(c.features[0]!.difference).toBeCloseTo(c.features[0]!.b - c.features[0]!.a, 6);
    for (const f of c.features.filter((q) => ['x', 'y', 'z'].includes(q.feature))) expect(f.difference).toBe(0);
    await expect(analyzer.compareDecisions(input, one)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('typed errors: unknown method, empty buffer, mismatched names, deepLiftShap without a distribution', async () => {
    expect(() => new AttributionAnalyzer(model, { featureNames: names, methods: ['magic'] })).toThrow(InvalidArgumentError);
    expect(() => new AttributionAnalyzer(model, { featureNames: names.slice(1) })).toThrow(InvalidArgumentError);
    expect(() => new AttributionAnalyzer(model, { featureNames: names, methods: ['deepliftshap'] })).toThrow(InvalidArgumentError);
    const a = new AttributionAnalyzer(model, { featureNames: names, methods: ['saliency'] });
    await expect(a.analyze({ x: new Float32Array(0), batch: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('infidelity and sensitivity mean something', () => {
  const model = trainedLike({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: T }, 4);
  const ex = new Explainer(model);
  const B = 8;
  const input = { x: randn(B * T * F, 6), batch: B };
  it("IG's attribution predicts the model's response better than a random attribution of the same norm", async () => {
    const ig = await ex.integratedGradients(input, { nSteps: 32 });
    const norm = Math.hypot(...ig.attributions);
    const noise = randn(ig.attributions.length, 9);
    const scale = norm / Math.hypot(...noise);
    const random = { ...ig, attributions: noise.map((v) => v * scale) };
    const o = { perturbation: 'groupDrop' as const, nPerturbSamples: 20, seed: 2 };
    const real = await infidelity(model, input, ig, o);
    const fake = await infidelity(model, input, random, o);
    expect(real.mean).toBeLessThan(fake.mean);
    const g = await infidelity(model, input, ig, { stdev: 0.05, seed: 2, normalize: true });
    expect(g.perInput).toHaveLength(B);
  });
  it("a noise tunnel's explanation is less sensitive than plain Saliency's", async () => {
    const sal = (x: typeof input) => ex.saliency(x);
    const nt = (x: typeof input) => ex.noiseTunnel('saliency', x, { nSamples: 16, stdevs: 0.3, seed: 3 });
    const r = { radius: 0.2, nPerturbSamples: 6, seed: 4 };
    const s1 = await sensitivityMax(sal, input, await sal(input), r);
    const s2 = await sensitivityMax(nt, input, await nt(input), r);
    expect(s2.mean).toBeLessThan(s1.mean);
  });
});

describe('on a panel with planted features', () => {
  it('the planted features rank top under every method, and the methods agree', async ({ annotate }) => {
    const ds = syntheticDataset({
      seed: 11,
      symbols: 8,
      days: 2000,
      informative: 2,
      noise: 10,
      duplicates: 0,
      nanRate: 0.01,
      signalStrength: 0.3,
    });
    const config = resolveTrainingConfig({
      model: { dHidden: 16, nHeads: 2, seqLen: 21, dropout: 0.1, seed: 3 },
      training: { pretrainEpochs: 4, finetuneEpochs: 2, maxWindowsPerEpoch: 2048, warmupSteps: 5, learningRate: 3e-3, windowStride: 1 },
      folds: { count: 2, testDays: 150, validationDays: 100 },
      output: { saveCheckpoint: false },
    });
    const r = await trainWalkForward({ config, dataset: { prices: ds.panel, features: ds.features } });
    const fp = applyNormalization(ds.features, r.normalization);
    const D = fp.dates.length;
    const Fs = fp.names.length;
    const rows: Float32Array[] = [];
    const ids: number[] = [];
    for (let a = 0; a < fp.symbols.length; a++)
      for (let end = D - 150; end < D; end += 25) {
        const w = fp.values.subarray((a * D + end - 20) * Fs, (a * D + end + 1) * Fs);
        if (!w.every(Number.isFinite)) continue;
        rows.push(Float32Array.from(w));
        ids.push(a);
      }
    const x = new Float32Array(rows.length * 21 * Fs);
    rows.forEach((w, i) => x.set(w, i * 21 * Fs));
    const analyzer = new AttributionAnalyzer(r.model, {
      featureNames: fp.names,
      methods: ['ig', 'gradshap', 'deeplift', 'saliency'],
      nSteps: 32,
      seed: 5,
    });
    const a = await analyzer.analyze({
      x,
      batch: rows.length,
      ...(r.model.config.nEntities > 0 ? { entityIds: Int32Array.from(ids) } : {}),
    });
    const planted = ds.truth.informative;
    const noiseScores = a.rankings.overall.filter((f) => ds.truth.noise.includes(f.feature)).map((f) => f.score);
    const top = (imp: number[]) => [...imp.keys()].sort((i, j) => imp[j]! - imp[i]!).map((i) => fp.names[i]!);
    await annotate(
      `planted ${planted.join(', ')}; top 3 per method: ` +
        a.methods.map((m) => `${m.method} ${top(m.featureImportance).slice(0, 3).join(' ')}`).join('; ') +
        `; consensus ${a.consensus!.meanCorrelation.toFixed(3)}; noise features' scores under the primary method ` +
        `${Math.min(...noiseScores).toFixed(3)}–${Math.max(...noiseScores).toFixed(3)}`,
    );
    for (const m of a.methods) for (const p of planted) expect(top(m.featureImportance).slice(0, 3)).toContain(p);
    expect(a.consensus!.meanCorrelation).toBeGreaterThan(0.7);
    r.model.dispose();
  }, 300_000);
});

describe('analysis while training (config.attribution)', () => {
  it('analyses every N epochs within the budget, into the fold result, the stability store and the checkpoint', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { CheckpointManager, SnapshotStore, saveTrainingCheckpoint } = await import('../../lib/index.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-attr-train-'));
    const ds = syntheticDataset({
      seed: 12,
      symbols: 4,
      days: 700,
      informative: 2,
      noise: 4,
      duplicates: 0,
      nanRate: 0,
      signalStrength: 0.3,
    });
    const config = resolveTrainingConfig({
      model: { dHidden: 8, nHeads: 2, seqLen: 10, seed: 1 },
      training: { pretrainEpochs: 2, finetuneEpochs: 1, maxWindowsPerEpoch: 256, patience: 5 },
      folds: { count: 2, testDays: 60, validationDays: 60 },
      attribution: { everyEpochs: 1, methods: ['ig', 'saliency'], samples: 12, steps: 4, deadFeatureWindows: 12 },
      output: { saveCheckpoint: false, stabilityDir: path.join(dir, 'fi'), checkpointRoot: path.join(dir, 'ckpt') },
    });
    const events: string[] = [];
    const r = await trainWalkForward({
      config,
      dataset: { prices: ds.panel, features: ds.features },
      onEvent: (e) => {
        if (e.type === 'attribution') events.push(`${e.fold}/${e.phase}/${e.epoch}`);
      },
    });
    for (const f of r.folds) {
      expect(f.attribution).toHaveLength(f.epochs.length); // every epoch, the budget being ample
      const last = f.attribution.at(-1)!.analysis;
      expect(last.windows).toBe(12);
      expect(last.methods.map((m) => m.method)).toEqual(['integratedGradients', 'saliency']);
      expect(last.gradientFlow!.layers.length).toBeGreaterThan(0);
      expect(last.deadFeatures.sufficientHistory).toBe(true);
    }
    expect(events).toHaveLength(r.folds.reduce((n, f) => n + f.epochs.length, 0));
    // the analyzer lives for the fold: from the second analysis on, the patterns are compared over time
    expect(r.folds[0]!.attribution[1]!.analysis.vsnStability.acrossAnalyses).toBeGreaterThan(0);
    const store = new SnapshotStore(path.join(dir, 'fi'));
    for (const method of ['integrated_gradients', 'saliency', 'tft_vsn']) {
      const { snapshots } = await store.list({ targetName: 'scaled_next_day_return', method });
      expect(snapshots.map((s) => s.fold).sort()).toEqual([0, 1]);
    }
    const saved = await saveTrainingCheckpoint(r, new CheckpointManager(path.join(dir, 'ckpt')));
    const loaded = await CheckpointManager.loadDirectory(saved);
    expect(loaded.metadata.attribution!.primaryMethod).toBe('integratedGradients');
    expect(loaded.metadata.attribution!.fold).toBe(1);
    expect(loaded.metadata.attribution!.topFeatures[0]!.score).toBe(1);
    loaded.model.dispose();
    r.model.dispose();
    // a tiny budget stops after the first analysis of each fold
    const tight = resolveTrainingConfig({
      ...config,
      attribution: { ...config.attribution, budgetSeconds: 1e-6 },
      output: { saveCheckpoint: false },
    });
    const r2 = await trainWalkForward({ config: tight, dataset: { prices: ds.panel, features: ds.features } });
    for (const f of r2.folds) expect(f.attribution).toHaveLength(1);
    r2.model.dispose();
    expect(() => resolveTrainingConfig({ attribution: { everyEpochs: 1, methods: ['magic'] } })).toThrow(SchemaError);
  }, 300_000);

  it('analyses an X-Trend model with the trainer’s context sets for its windows', async () => {
    const ds = syntheticDataset({
      seed: 5,
      symbols: 3,
      days: 500,
      informative: 2,
      noise: 2,
      duplicates: 0,
      nanRate: 0,
      signalStrength: 0.3,
    });
    const config = resolveTrainingConfig({
      model: { dHidden: 8, nHeads: 2, seqLen: 10, seed: 1, nContext: 2, contextLen: 8 },
      training: { pretrainEpochs: 1, finetuneEpochs: 1, maxWindowsPerEpoch: 128 },
      folds: { count: 1, testDays: 60, validationDays: 60 },
      attribution: { everyEpochs: 1, methods: ['ig', 'deeplift'], samples: 8, steps: 16, deadFeatureWindows: 8 },
      output: { saveCheckpoint: false },
    });
    const r = await trainWalkForward({ config, dataset: { prices: ds.panel, features: ds.features } });
    try {
      const f = r.folds[0]!;
      expect(f.attribution).toHaveLength(f.epochs.length);
      const last = f.attribution.at(-1)!.analysis;
      expect(last.windows).toBe(8);
      // DeepLift is exactly complete only if both of its passes saw each window's context set.
      const dl = last.methods.find((m) => m.method === 'deepLift')!;
      expect(dl.maxAbsDelta!).toBeLessThan(1e-4);
      expect(Number.isFinite(last.consensus!.meanCorrelation)).toBe(true);
    } finally {
      r.model.dispose();
    }
  }, 300_000);
});

describe('analyzeCheckpoint refuses what it cannot explain', () => {
  it('a checkpoint without normalisation statistics, and bad dates or sample counts', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { analyzeCheckpoint, CheckpointManager } = await import('../../lib/index.js');
    const m = TFTModel.create({ nFeatures: 2, dHidden: 8, nHeads: 2, seqLen: 10 });
    const manager = new CheckpointManager(mkdtempSync(path.join(tmpdir(), 'tft-attr-ckpt-')));
    const dir = await manager.save(
      m,
      { modelType: 'tft', featureNames: ['rsi_2', 'rsi_3'], nAssets: 0, assetNames: [] },
      { gitCommit: null },
    );
    const checkpoint = await CheckpointManager.loadDirectory(dir);
    await expect(analyzeCheckpoint({ checkpoint })).rejects.toThrow(/normalisation/);
    await expect(analyzeCheckpoint({ checkpoint })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(analyzeCheckpoint({ checkpoint, samples: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(analyzeCheckpoint({ checkpoint, date: '2001-01-02', start: '2000-01-03' })).rejects.toBeInstanceOf(InvalidArgumentError);
    checkpoint.model.dispose();
    m.dispose();
  });
});
