/**
 * The feature selector: Tier 1 rules on hand-made panels, Tier 2 on hand-made VSN weights, agreement and
 * consensus, then whole runs on synthetic panels with planted informative features, near-duplicates and
 * noise (recall, duplicates, noise dropped, printed), no look-ahead (fold 0's selection ignores every later
 * value), serialisation, training on a saved selection, and the CLI.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  CheckpointManager,
  FeatureSelector,
  SchemaError,
  consensusMerge,
  percentileRanks,
  prefilterFold,
  rankAgreement,
  resolveFeatureSelectionConfig,
  runFeatureSelection,
  saveTrainingCheckpoint,
  syntheticDataset,
  trainWalkForward,
  vsnStability,
  type FeaturePanel,
  type SyntheticDataset,
} from '../../lib/index.js';
import { runCli } from '../helpers/cli.js';

function panelOf(columns: Record<string, Float32Array>, days: number): FeaturePanel {
  const names = Object.keys(columns);
  const F = names.length;
  const values = new Float32Array(days * F);
  names.forEach((n, j) => columns[n]!.forEach((v, d) => (values[d * F + j] = v)));
  return {
    symbols: ['X'],
    dates: Array.from({ length: days }, (_, d) => `2000-01-${String((d % 28) + 1).padStart(2, '0')}`),
    names,
    groups: names.map(() => 'g'),
    lookbacks: new Int32Array(F),
    values,
    maxLookback: 0,
  };
}

function gaussians(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe('Tier 1 pre-filters', () => {
  const D = 4000;
  const z1 = gaussians(D, 1);
  const z2 = gaussians(D, 2);
  const mk = (f: (d: number) => number) => Float32Array.from({ length: D }, (_, d) => f(d));
  const columns = {
    a: mk((d) => z1[d]!), // var 1
    b: mk((d) => z1[d]! + 0.25 * z2[d]!), // r(a,b) = 0.970, var 1.06
    c: mk((d) => z1[d]! + 0.5 * z2[d]!), // r(b,c) = 0.976, r(a,c) = 0.894, var 1.25
    sparse: mk((d) => (d % 5 === 0 ? z2[d]! : Number.NaN)), // 20% finite
    e: mk((d) => 3 * z2[d]!),
    f: mk((d) => 3 * z2[d]!), // identical to e: equal variance, the catalogue order decides
  };
  const target = new Float32Array(D);
  const config = resolveFeatureSelectionConfig({});

  it('drops low coverage, keeps the higher-variance feature of each correlated pair, and says why', async () => {
    const r = await prefilterFold(panelOf(columns, D), target, { start: 0, end: D - 1, horizon: 1 }, config);
    expect(r.rows).toBe(D - 1);
    expect(r.kept).toEqual(['a', 'c', 'e']);
    const why = Object.fromEntries(r.dropped.map((d) => [d.name, d.reason]));
    expect(why.sparse).toMatchObject({ tier: 'coverage', minCoverage: 0.3 });
    expect((why.sparse as { coverage: number }).coverage).toBeCloseTo(0.2, 2);
    expect(why.b).toMatchObject({ tier: 'correlation', partner: 'c' });
    expect((why.b as { r: number }).r).toBeGreaterThan(0.95);
    expect(why.f).toMatchObject({ tier: 'correlation', partner: 'e' });
    expect(r.coverage.a).toBe(1);
  });

  it('reads only the training range: values after its end change nothing', async () => {
    const noisy = Object.fromEntries(
      Object.entries(columns).map(([k, v]) => [
        k,
        Float32Array.from(v, (x, d) => (d > 2000 ? (d % 2 ? Number.NaN : 1e6 * Math.sin(d)) : x)),
      ]),
    );
    const range = { start: 100, end: 2000, horizon: 1 };
    const clean = await prefilterFold(panelOf(columns, D), target, range, config);
    const dirty = await prefilterFold(panelOf(noisy, D), target, range, config);
    expect({ ...dirty, seconds: 0 }).toEqual({ ...clean, seconds: 0 });
  });
});

describe('Tier 2 VSN stability', () => {
  const config = resolveFeatureSelectionConfig({ finalMaxFeatures: 1 });
  const folds = [
    { fold: 0, weights: { a: 0.4, b: 0.32, c: 0.2, d: 0.08 } },
    { fold: 1, weights: { a: 0.5, b: 0.2, c: 0.26, d: 0.04 } },
  ];
  it('selects by weight above max(threshold, 1/F) in ≥ half the folds, ranks by mean weight and caps', () => {
    const r = vsnStability(folds, (n) => (n === 'a' ? 'g1' : 'g2'), config);
    expect(r.weightThresholds).toEqual([0.25, 0.25]);
    expect(r.stabilityScores).toEqual({ a: 1, b: 0.5, c: 0.5, d: 0 });
    expect(r.stableFeatures).toEqual(['a', 'b']); // c: mean 0.23 ≤ 0.25
    expect(r.recommendedFeatures).toEqual(['a']);
    expect(r.vsnWeightPerFold.c).toEqual([0.2, 0.26]);
    const why = Object.fromEntries(r.dropped.map((d) => [d.name, d.reason]));
    expect(why.b).toEqual({ tier: 'cap', rank: 2, finalMaxFeatures: 1 });
    expect(why.c).toMatchObject({ tier: 'vsn', selectedShare: 0.5 });
    expect(r.featureGroupBreakdown.g1).toEqual({ candidates: 1, stable: 1, recommended: 1, weightShare: 0.45 });
    expect(r.featureGroupBreakdown.g2!.candidates).toBe(3);
    // Nogueira on Z = [[1,1,0,0],[1,0,1,0]]: p̂ = (1, .5, .5, 0), s² = M/(M−1) p̂(1−p̂) = (0, .5, .5, 0),
    // k̄/d = 1/2: Φ̂ = 1 − mean(s²) / (k̄/d (1 − k̄/d)) = 1 − 0.25 / 0.25 = 0.
    expect(r.nogueira.value).toBeCloseTo(0, 12);
  });
  it('uses the seed’s absolute threshold on many features', () => {
    const weights = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`f${i}`, i < 50 ? 0.012 : 0.0026]));
    const r = vsnStability([{ fold: 0, weights }], () => 'g', resolveFeatureSelectionConfig({}));
    expect(r.weightThresholds[0]).toBe(0.005);
    expect(r.stableFeatures).toHaveLength(50);
  });
});

describe('selection warnings', () => {
  const fold = (k: number, weights: Record<string, number>) => ({
    fold: k,
    trainStart: '2000-01-01',
    trainEnd: `200${k + 1}-01-01`,
    innerTrain: { start: '2000-01-01', end: '2000-06-01' },
    innerValidation: { start: '2000-08-01', end: '2000-12-01' },
    epochs: 8,
    bestValidationLoss: null,
    testSharpe: null,
    seconds: 0,
    prefilter: { trainStart: '', trainEnd: '', rows: 0, candidates: 4, kept: Object.keys(weights), dropped: [], coverage: {}, seconds: 0 },
    vsnWeights: weights,
  });
  const base = (folds: ReturnType<typeof fold>[]) => ({
    createdAt: '',
    config: resolveFeatureSelectionConfig({}),
    data: { symbols: ['X'], firstDate: '', lastDate: '', features: ['a', 'b', 'c', 'd'], groups: ['g', 'g', 'g', 'g'] },
    folds,
    agreement: null,
    consensus: [],
    seconds: 0,
  });
  it('say when the VSN weights are nearly uniform and when the folds disagree', () => {
    const flat = FeatureSelector.fromExploration(
      base([fold(0, { a: 0.251, b: 0.25, c: 0.25, d: 0.249 }), fold(1, { a: 0.249, b: 0.25, c: 0.25, d: 0.251 })]),
    );
    expect(flat.state.warnings.join('\n')).toMatch(/within a few percent of uniform \(coefficient of variation fold 0: 0\.003/);
    const sharp = FeatureSelector.fromExploration(
      base([fold(0, { a: 0.6, b: 0.3, c: 0.05, d: 0.05 }), fold(1, { a: 0.55, b: 0.35, c: 0.05, d: 0.05 })]),
    );
    expect(sharp.state.warnings).toEqual([]);
    expect(sharp.recommendedFeatures).toEqual(['a', 'b']);
  });
});

describe('agreement and consensus', () => {
  const methods = [
    { method: 'vsn', scores: { a: 0.5, b: 0.3, c: 0.2, d: 0.0 } },
    { method: 'mutualInfo', scores: { a: 0.4, b: 0.3, c: 0.0, d: 0.5 } },
  ];
  it('percentile ranks share ties and run from 0 (last) to 1 (top)', () => {
    expect(percentileRanks({ x: 1, y: 2, z: 2, w: 3 })).toEqual({ x: 0, y: 0.5, z: 0.5, w: 1 });
    expect(percentileRanks({ only: 4 })).toEqual({ only: 0.5 });
  });
  it('flags features two methods place far apart, with the numbers, and merges by mean percentile', async () => {
    const a = await rankAgreement(methods, 0.5);
    expect(a.spearman[1]).toBeCloseTo(-0.2, 10);
    expect(a.flagged.map((f) => f.name)).toEqual(['d']);
    expect(a.flagged[0]).toMatchObject({ methods: ['vsn', 'mutualInfo'], gap: 1, scores: { vsn: 0, mutualInfo: 0.5 } });
    const c = consensusMerge(methods);
    expect(c.map((e) => e.name)).toEqual(['a', 'b', 'd', 'c']);
    expect(c[0]!.score).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(consensusMerge(methods, { mutualInfo: 0 }).map((e) => e.name)).toEqual(['a', 'b', 'c', 'd']);
  });
});

const plantedConfig = {
  model: { dHidden: 16, nHeads: 2, seqLen: 10, dropout: 0.1, seed: 1 },
  training: { pretrainEpochs: 8, finetuneEpochs: 3, maxWindowsPerEpoch: 1024, batchSize: 64, learningRate: 3e-3, patience: 4 },
  folds: { count: 2, testDays: 150, validationDays: 150 },
  selection: { permutation: { maxFeatures: 4, repeats: 1 } },
  output: { saveCheckpoint: false },
};
const planted = (seed: number) =>
  syntheticDataset({ seed, symbols: 8, days: 1400, informative: 4, noise: 16, duplicates: 3, nanRate: 0.01, signalStrength: 0.6 });

function scoreAgainstTruth(sel: FeatureSelector, ds: SyntheticDataset) {
  const rec = new Set(sel.recommendedFeatures);
  const tier1 = new Set(sel.state.folds.at(-1)!.prefilter.kept);
  const copies = (i: string) =>
    Object.entries(ds.truth.duplicates)
      .filter(([, v]) => v === i)
      .map(([k]) => k);
  // A near-duplicate (r ≈ 0.995) carries its original's information: either one stands for it.
  const recall = ds.truth.informative.filter((i) => rec.has(i) || copies(i).some((c) => rec.has(c))).length / ds.truth.informative.length;
  const duplicatePairsLeft = Object.entries(ds.truth.duplicates).filter(([d, i]) => tier1.has(d) && tier1.has(i)).length;
  const noiseDropped = ds.truth.noise.filter((n) => !rec.has(n)).length / ds.truth.noise.length;
  return { recall, duplicatePairsLeft, noiseDropped, selected: rec.size };
}

describe('FeatureSelector on planted synthetic panels', () => {
  it('recovers the planted features, reduces every duplicate pair to one and drops the noise, across seeds', async () => {
    const rows = [];
    for (const seed of [1, 2, 3]) {
      const ds = planted(seed);
      const sel = await runFeatureSelection({ dataset: { prices: ds.panel, features: ds.features }, config: plantedConfig });
      const s = scoreAgainstTruth(sel, ds);
      rows.push({ seed, ...s });
      expect(s.recall).toBeGreaterThanOrEqual(0.9);
      expect(s.duplicatePairsLeft).toBe(0);
      expect(s.noiseDropped).toBeGreaterThanOrEqual(0.8);
      // every candidate outside the recommendation has a reason
      const last = sel.state.selections.at(-1)!;
      const reasoned = new Set(last.dropped.map((d) => d.name));
      for (const n of ds.features.names) expect(last.features.includes(n) || reasoned.has(n), n).toBe(true);
      expect(Object.keys(sel.state.folds[0]!.mutualInfo!)).toHaveLength(sel.state.folds[0]!.prefilter.kept.length);
      expect(Object.keys(sel.state.folds[0]!.permutation!)).toHaveLength(4);
      expect(sel.state.agreement!.methods).toEqual(['vsn', 'mutualInfo', 'permutation']);
      expect(sel.state.warnings.join(' ')).not.toMatch(/uniform/);
    }
    process.stdout.write(
      'planted-feature recovery (recall counts a near-duplicate for its original):\n' +
        rows.map((r) => JSON.stringify(r)).join('\n') +
        '\n',
    );
  }, 240_000);

  it('fold 0’s selection is unchanged when every value after fold 0’s training end changes', async () => {
    const ds = planted(4);
    const clean = await runFeatureSelection({ dataset: { prices: ds.panel, features: ds.features }, config: plantedConfig });
    const end = clean.state.selections[0]!;
    const endDay = ds.panel.dates.indexOf(end.trainEnd);
    const prices = { ...ds.panel, close: Float64Array.from(ds.panel.close) };
    const features = { ...ds.features, values: Float32Array.from(ds.features.values) };
    const S = ds.panel.symbols.length;
    const D = ds.panel.dates.length;
    const F = ds.features.names.length;
    for (let a = 0; a < S; a++) {
      for (let d = endDay + 1; d < D; d++) {
        prices.close[a * D + d] = prices.close[a * D + d]! * (1 + 0.05 * Math.sin(7 * d + a));
        for (let f = 0; f < F; f++) features.values[(a * D + d) * F + f] = Math.cos(d * (f + 1));
      }
    }
    const dirty = await runFeatureSelection({ dataset: { prices, features }, config: plantedConfig });
    expect(dirty.selectFold(0)).toEqual(clean.selectFold(0));
    const strip = (f: (typeof clean.state.folds)[number]) => ({
      ...f,
      seconds: 0,
      testSharpe: 0,
      permutation: undefined,
      prefilter: { ...f.prefilter, seconds: 0 },
    });
    expect(strip(dirty.state.folds[0]!)).toEqual(strip(clean.state.folds[0]!));
    expect(dirty.state.folds[1]!.vsnWeights).not.toEqual(clean.state.folds[1]!.vsnWeights);
  }, 120_000);
});

describe('FeatureSelector state', () => {
  it('serialises to feature_selector.json and back, rejects what is not a selector, and trains a run on it', async () => {
    const ds = planted(5);
    // The run's attribution analyses join the methods compared (here saliency, every 4 epochs).
    const withAttribution = { ...plantedConfig, attribution: { everyEpochs: 4, methods: ['saliency'], samples: 8 } };
    const sel = await runFeatureSelection({ dataset: { prices: ds.panel, features: ds.features }, config: withAttribution });
    expect(sel.state.agreement!.methods).toEqual(['vsn', 'mutualInfo', 'permutation', 'saliency']);
    expect(Object.keys(sel.state.folds[0]!.attribution!.saliency!)).toEqual(sel.state.folds[0]!.prefilter.kept);
    expect(sel.state.consensus[0]!.percentiles).toHaveProperty('saliency');
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-selector-'));
    const file = await sel.save(path.join(dir, 'feature_selector.json'));
    const back = await FeatureSelector.load(file);
    expect(back.toJSON()).toEqual(JSON.parse(JSON.stringify(sel.toJSON())));
    expect(back.selectFold(1)).toEqual(sel.selectFold(1));
    expect(back.recommendedFeatures).toEqual(sel.selectFold(1));
    expect(() => back.selectFold(7)).toThrow(/fold 7/);
    expect(() => back.selectFor('1990-01-01')).toThrow(/first fold trained until/);
    expect(() => FeatureSelector.fromJSON({ format: 'other' })).toThrow(SchemaError);
    expect(() => FeatureSelector.fromJSON({ ...sel.toJSON(), version: 2 })).toThrow(/version 2/);
    expect(() => FeatureSelector.fromJSON({ ...sel.toJSON(), selections: [{ trainEnd: 3 }] })).toThrow(SchemaError);
    writeFileSync(path.join(dir, 'torn.json'), readFileSync(file, 'utf8').slice(0, 500));
    await expect(FeatureSelector.load(path.join(dir, 'torn.json'))).rejects.toThrow(/not valid JSON/);

    // Train on the selection: each fold on its own fold's selection; the checkpoint keeps the selector.
    const config = { ...plantedConfig, features: { from: file }, output: { checkpointRoot: path.join(dir, 'ckpt') } };
    const run = await trainWalkForward({ config: config as never, dataset: { prices: ds.panel, features: ds.features } });
    run.folds.forEach((f, k) => expect(f.vsnImportance.map((w) => w.name).sort()).toEqual(sel.selectFold(k).sort()));
    expect(run.featureNames).toEqual(sel.selectFold(1));
    const ckpt = await saveTrainingCheckpoint(run);
    run.model.dispose();
    const fromCkpt = await FeatureSelector.load(ckpt);
    expect(fromCkpt.recommendedFeatures).toEqual(sel.recommendedFeatures);
    const loaded = await new CheckpointManager(path.join(dir, 'ckpt')).load(ckpt);
    expect(loaded.metadata.featureNames).toEqual(sel.selectFold(1));
    loaded.model.dispose();
  }, 180_000);
});

describe('tft-native select', () => {
  it('prints each phase, writes the selector with a reason per dropped feature, and train --features-from uses it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-select-cli-'));
    const config = path.join(dir, 'quick.yaml');
    writeFileSync(
      config,
      [
        'features:',
        '  groups: [rsi, ewma_vol, vol_ratio]',
        'model: { dHidden: 8, nHeads: 2, seqLen: 21 }',
        'training: { pretrainEpochs: 1, finetuneEpochs: 1, maxWindowsPerEpoch: 256 }',
        'folds: { count: 2, testDays: 126, validationDays: 63 }',
        'selection:',
        '  correlationThreshold: 0.9',
        '  permutation: { maxFeatures: 3, repeats: 1 }',
        '  mutualInfo: { maxRows: 5000 }',
      ].join('\n'),
    );
    const out = path.join(dir, 'sel.json');
    const r = await runCli(['select', '--config', config, '--symbols', 'AA,IBM,MSFT,KO', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/fold 0 Tier 1 \(.+ rows\): \d+ features → coverage −\d+ → correlation −\d+ → \d+ kept/);
    expect(r.err).toMatch(/fold 1 exploration done: \d+ epochs/);
    expect(r.out).toMatch(/\d+ features → \d+ after Tier 1 → \d+ recommended/);
    expect(r.out).toMatch(/rank agreement \(Spearman\): vsn vs mutualInfo/);
    const state = JSON.parse(readFileSync(out, 'utf8')) as ReturnType<FeatureSelector['toJSON']>;
    expect(state.selections).toHaveLength(2);
    const corrDrops = state.folds[0]!.prefilter.dropped.filter((d) => d.reason.tier === 'correlation');
    expect(corrDrops.length).toBeGreaterThan(0);
    for (const d of corrDrops) expect(Math.abs((d.reason as { r: number }).r)).toBeGreaterThan(0.9);
    // The same run config trains on the selection, each fold on its own fold's features.
    const trainArgs = ['--symbols', 'AA,IBM,MSFT,KO', '--features-from', out, '--no-checkpoint', '--no-progress'];
    const t = await runCli(['train', '--config', config, ...trainArgs, '--json']);
    expect(t.code, t.err).toBe(0);
    const res = JSON.parse(t.out) as { folds: { vsnImportance: { name: string }[] }[] };
    res.folds.forEach((f, k) => expect(f.vsnImportance.map((w) => w.name).sort()).toEqual([...state.selections[k]!.features].sort()));
    // A config whose groups cannot hold the selection is refused before any training.
    const narrow = path.join(dir, 'narrow.yaml');
    writeFileSync(narrow, readFileSync(config, 'utf8').replace('groups: [rsi, ewma_vol, vol_ratio]', 'groups: [trend]'));
    const t2 = await runCli(['train', '--config', narrow, ...trainArgs]);
    expect(t2.code).not.toBe(0);
    expect(t2.err).toMatch(/selected feature\(s\) are outside features.groups/);
  }, 300_000);
});
