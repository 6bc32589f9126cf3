import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

import {
  ConflictError,
  InvalidArgumentError,
  SchemaError,
  SnapshotStore,
  UnsafePathError,
  analyzeAllStabilityHook,
  analyzeGroup,
  groupId,
  groupKey,
  jaccard,
  loadStabilityConfig,
  nogueiraStability,
  parseSnapshot,
  parseTimestamp,
  rankBiasedOverlap,
  rboPForTopK,
  resolveStabilityConfigPath,
  saveSnapshotFromSeriesHook,
  saveSnapshotHook,
  stabilityConfigFrom,
  weightedTau,
  type Snapshot,
  type StabilityLogger,
} from '../../lib/index.js';
import { runCli as cli } from '../helpers/cli.js';
import { mulberry32 } from '../helpers/random.js';
import { fixturePath } from '../helpers/fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIX = fixturePath('stability');
const EXPECTED = JSON.parse(readFileSync(path.join(FIX, 'expected.json'), 'utf8'));
const tmp = () => mkdtempSync(path.join(tmpdir(), 'tft-stab-'));
const Z95 = 1.959963984540054;

function capturingLogger(): StabilityLogger & { infos: string[]; warns: string[] } {
  const infos: string[] = [];
  const warns: string[] = [];
  return { infos, warns, info: (m) => infos.push(m), warn: (m) => warns.push(m) };
}

/** m complete runs of n features: a shared ranking perturbed per run (no ties). */
function syntheticRuns(m: number, n: number, seed: number): Snapshot[] {
  const u = mulberry32(seed);
  const truth = Array.from({ length: n }, () => -Math.log(1 - u()));
  return Array.from({ length: m }, (_, r) => {
    const names = truth.map((_, j) => `f${String(j).padStart(3, '0')}`);
    const values = truth.map((v) => v * Math.exp(0.6 * (u() - 0.5)));
    const order = names.map((_, j) => j).sort((a, b) => values[b]! - values[a]!);
    return {
      schemaVersion: 1,
      targetName: 't',
      method: 'm',
      universeId: null,
      runId: `r${r}`,
      createdAt: '2026-01-01T00:00:00Z',
      features: order.map((j) => names[j]!),
      importances: order.map((j) => values[j]!),
      fold: null,
      seed: null,
      gitCommit: null,
      metadata: {},
    } satisfies Snapshot;
  });
}

describe('metrics against independent computations', () => {
  it('rank-biased overlap: worked examples, uneven lists (eq. 32), the reference implementation', () => {
    // X_1 = 0, X_2 = 2, X_3 = 3, X_4 = 4 at p = 0.9: (1/9)(0 + 0.81 + 0.729 + 0.6561) + 0.6561 = 0.9
    expect(rankBiasedOverlap(['a', 'b', 'c', 'd'], ['b', 'a', 'c', 'd'], 0.9)).toBeCloseTo(0.9, 12);
    expect(rankBiasedOverlap(['a', 'b', 'c'], ['a', 'b', 'c'], 0.7)).toBeCloseTo(1, 12);
    expect(rankBiasedOverlap(['a', 'b', 'c'], ['x', 'y', 'z'], 0.7)).toBe(0);
    // one shared element at depth 1 only: X_d = 1 for all d, k = 2, p = 0.5: (1/2)(0.25) + 1·(1·0.5 + 0.5·0.25) = 0.75
    expect(rankBiasedOverlap(['a', 'b'], ['a', 'c'], 0.5)).toBeCloseTo(0.75, 12);
    // uneven: S = (a, b), L = (b, c, a), p = 0.5, (1 − p)/p = 1. X_1 = 0, X_2 = 1, X_3 = 2, X_s = X_2 = 1:
    //   Σ_{d≤3} X_d/d p^d = 1/8 + 1/12 = 5/24; Σ_{d=3} X_s (d − s)/(s d) p^d = 1/48;
    //   ((X_3 − X_2)/3 + X_2/2) p^3 = (1/3 + 1/2)/8 = 5/48; total 10/48 + 1/48 + 5/48 = 1/3.
    // Truncating to the shorter list would give (1/2)(1/4) + 1/8 = 0.25.
    expect(rankBiasedOverlap(['a', 'b'], ['b', 'c', 'a'], 0.5)).toBeCloseTo(1 / 3, 14);
    expect(rankBiasedOverlap(['b', 'c', 'a'], ['a', 'b'], 0.5)).toBeCloseTo(1 / 3, 14);
    for (const c of EXPECTED.rboCases as Array<{ s: string[]; t: string[]; p: number; rbo: number }>) {
      expect(rankBiasedOverlap(c.s, c.t, c.p)).toBeCloseTo(c.rbo, 12);
      expect(rankBiasedOverlap(c.t, c.s, c.p)).toBeCloseTo(c.rbo, 12);
    }
    expect(EXPECTED.rboCases.some((c: { s: string[]; t: string[] }) => c.s.length !== c.t.length)).toBe(true);
    expect(Number.isNaN(rankBiasedOverlap([], ['a'], 0.5))).toBe(true);
    expect(() => rankBiasedOverlap(['a'], ['a'], 1)).toThrow(RangeError);
    expect(rboPForTopK(20)).toBeCloseTo(0.95, 12);
  });

  it('Nogueira et al. stability: estimate, variance and 95% interval on a hand-worked case', () => {
    // Z (3 runs × 4 features, k = 2): p̂ = (1, 2/3, 1/3, 0), k̄ = 2, d = 4, denominator (k̄/d)(1 − k̄/d) = 1/4.
    //   (1/d) Σ p̂(1 − p̂) = (2/9 + 2/9)/4 = 1/9; × M/(M−1) = 1/6; Φ̂ = 1 − (1/6)/(1/4) = 1/3.
    //   φ_i = [ (1/d) Σ_f Z_if p̂_f − k_i k̄/d² + (Φ̂/2)(2 k_i k̄/d² − k_i/d − k̄/d + 1) ] / (1/4)
    //       = [ (5/12 | 1/3 | 5/12) − 1/4 + (1/6)(1/2) ] · 4 = (1, 2/3, 1)
    //   mean 8/9, Σ (φ_i − 8/9)² = 1/81 + 4/81 + 1/81 = 2/27, v = (4/M²) · 2/27 = 8/243.
    const z = (rows: number[][]) => rows.map((r) => Uint8Array.from(r));
    const hand = nogueiraStability(z(EXPECTED.nogueiraHandCase.Z));
    expect(hand.value).toBeCloseTo(1 / 3, 14);
    expect(hand.variance).toBeCloseTo(8 / 243, 14);
    expect(hand.ci95[0]).toBeCloseTo(1 / 3 - Z95 * Math.sqrt(8 / 243), 14);
    expect(hand.ci95[1]).toBeCloseTo(1 / 3 + Z95 * Math.sqrt(8 / 243), 14);
    expect(hand.ci95[0]).toBeCloseTo(-0.0222897538, 9);
    expect(hand.ci95[1]).toBeCloseTo(0.6889564205, 9);
    // the same numbers from the reference script's implementation of the paper's formulas
    expect(hand.variance).toBeCloseTo(EXPECTED.nogueiraHandCase.variance, 14);
    expect(hand.ci95[0]).toBeCloseTo(EXPECTED.nogueiraHandCase.ci95[0], 14);
    expect(hand.meanSize).toBe(2);
    // disjoint selections of one of two features: p = (.5, .5), k̄ = 1, d = 2 → 1 − 2·0.25/0.25 = −1
    expect(
      nogueiraStability(
        z([
          [1, 0],
          [0, 1],
        ]),
      ).value,
    ).toBeCloseTo(-1, 12);
    // p = (1, .5, .5, 0), M = 2, k̄ = 2, d = 4: s² mean = 2·(0 + .25 + .25 + 0)/4 = .25, denom = .25 → 0
    expect(
      nogueiraStability(
        z([
          [1, 1, 0, 0],
          [1, 0, 1, 0],
        ]),
      ).value,
    ).toBeCloseTo(0, 12);
  });

  it('Nogueira et al. stability: the degenerate cases have documented values', () => {
    const z = (rows: number[][]) => rows.map((r) => Uint8Array.from(r));
    // identical selections of 0 < k < d features: exactly 1, variance 0, interval [1, 1]
    const same = nogueiraStability(
      z([
        [1, 1, 0],
        [1, 1, 0],
        [1, 1, 0],
      ]),
    );
    expect(same).toMatchObject({ value: 1, variance: 0, ci95: [1, 1], meanSize: 2 });
    expect(same.undefinedBecause).toBeUndefined();
    // k = 0 and k = d: the denominator (k̄/d)(1 − k̄/d) vanishes
    const none = nogueiraStability(
      z([
        [0, 0, 0],
        [0, 0, 0],
      ]),
    );
    expect(none.undefinedBecause).toMatch(/no run selects/);
    expect(none.meanSize).toBe(0);
    const all = nogueiraStability(
      z([
        [1, 1],
        [1, 1],
      ]),
    );
    expect(all.undefinedBecause).toMatch(/every feature/);
    for (const r of [none, all]) {
      expect(Number.isNaN(r.value)).toBe(true);
      expect(Number.isNaN(r.variance)).toBe(true);
      expect(r.ci95.every(Number.isNaN)).toBe(true);
    }
    // M < 2
    expect(nogueiraStability(z([[1, 0, 1]])).undefinedBecause).toMatch(/fewer than two/);
    expect(nogueiraStability([]).undefinedBecause).toMatch(/fewer than two/);
    expect(() =>
      nogueiraStability(
        z([
          [1, 0],
          [1, 0, 0],
        ]),
      ),
    ).toThrow(RangeError);
  });

  for (const universe of ['ALL', 'AAPL'] as const) {
    it(`group ${universe} (${universe === 'ALL' ? 'snake_case, runs lacking features' : 'camelCase, complete, ties: native top-k path'}) matches scipy and the reference formulas`, async () => {
      const e = EXPECTED.groups[universe];
      const store = new SnapshotStore(path.join(FIX, 'archive'));
      const { snapshots, issues } = await store.list({ targetName: 'fwd_ret_21d', method: 'lightgbm', universeId: universe });
      expect(issues).toEqual([]);
      expect(snapshots).toHaveLength(e.runs);
      const complete = snapshots.every((s) => s.features.length === e.features);
      expect(complete).toBe(universe === 'AAPL');
      // ALL holds lists of different lengths: its RBO exercises the uneven form
      if (universe === 'ALL') expect(new Set(snapshots.map((s) => s.features.length)).size).toBeGreaterThan(1);
      const r = await analyzeGroup(snapshots, { topK: e.topK, includeMatrices: true });
      expect(r.features).toBe(e.features);
      expect(r.kendallTau.mean).toBeCloseTo(e.kendallTauMean, 12);
      expect(r.weightedTau.mean).toBeCloseTo(e.weightedTauMean, 12);
      expect(r.weightedTau.min).toBeCloseTo(e.weightedTauMin, 12);
      expect(r.topKOverlap.mean).toBeCloseTo(e.topKOverlapMean, 12);
      expect(r.rbo.p).toBeCloseTo(e.rboP, 14);
      expect(r.rbo.mean).toBeCloseTo(e.rboMean, 12);
      expect(r.rbo.min).toBeCloseTo(e.rboMin, 12);
      expect(r.nogueira.value).toBeCloseTo(e.nogueira.value, 12);
      expect(r.nogueira.variance).toBeCloseTo(e.nogueira.variance, 14);
      expect(r.nogueira.ci95[0]).toBeCloseTo(e.nogueira.ci95[0], 12);
      expect(r.nogueira.ci95[1]).toBeCloseTo(e.nogueira.ci95[1], 12);
      for (const s of r.selection) expect(s.frequency).toBeCloseTo(e.selectionFrequency[s.feature], 12);
      const pairs = (e.runs * (e.runs - 1)) / 2;
      for (const metric of [r.kendallTau, r.weightedTau, r.rbo, r.topKOverlap])
        expect(metric).toMatchObject({ pairs, sampled: false, standardError: 0 });
      const mx = r.matrices!;
      expect(mx.weightedTau).toHaveLength(e.runs * e.runs);
      expect(mx.rbo![1]).toBeCloseTo(rankBiasedOverlap(snapshots[0]!.features, snapshots[1]!.features, e.rboP), 12);
    });
  }

  it('ties rank by feature name in every metric: a file listing a tie out of name order is read in name order', async () => {
    const file = path.join(FIX, 'archive/fwd_ret_21d/lightgbm/aapl-run-2.json');
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    // the fixture's tie straddles the top-5 boundary, written in reverse name order
    expect(raw.importances[4]).toBe(raw.importances[5]);
    expect(raw.features[4] > raw.features[5]).toBe(true);
    const snap = parseSnapshot(raw, file);
    expect(snap.features[4]).toBe(raw.features[5]);
    expect(snap.features[5]).toBe(raw.features[4]);
    // the top-5 sets behind the group's (native) Jaccard and its selection frequency then agree with the
    // reference, which breaks ties by name (checked in the group test above); here the two paths agree
    // with each other when the group is made incomplete (the TypeScript bitset path)
    const { snapshots } = await new SnapshotStore(path.join(FIX, 'archive')).list({
      targetName: 'fwd_ret_21d',
      method: 'lightgbm',
      universeId: 'AAPL',
    });
    const native = await analyzeGroup(snapshots, { topK: 5, includeMatrices: true });
    const extra = {
      ...snapshots[0]!,
      features: [...snapshots[0]!.features, 'zz_only_here'],
      importances: [...snapshots[0]!.importances, -1],
    };
    const js = await analyzeGroup([extra, ...snapshots.slice(1)], { topK: 5, includeMatrices: true });
    expect(Array.from(js.matrices!.topKOverlap)).toEqual(Array.from(native.matrices!.topKOverlap));
  });

  it('weighted tau and RBO are exact over every pair by default, also past 100 runs; sampling is opt-in', async () => {
    const runs = syntheticRuns(120, 30, 5);
    const total = (120 * 119) / 2;
    const exact = await analyzeGroup(runs, { topK: 5 });
    expect(exact.weightedTau).toMatchObject({ pairs: total, sampled: false, standardError: 0 });
    expect(exact.rbo).toMatchObject({ pairs: total, sampled: false });
    // independent pair-by-pair computations
    let wt = 0;
    let rb = 0;
    let rbMin = Infinity;
    const values = runs.map((s) => {
      const v = new Float64Array(30);
      s.features.forEach((f, i) => (v[Number(f.slice(1))] = s.importances[i]!));
      return v;
    });
    for (let i = 0; i < 120; i++) {
      for (let j = i + 1; j < 120; j++) {
        wt += weightedTau(values[i]!, values[j]!);
        const x = rankBiasedOverlap(runs[i]!.features, runs[j]!.features, exact.rbo.p);
        rb += x;
        rbMin = Math.min(rbMin, x);
      }
    }
    expect(exact.weightedTau.mean).toBeCloseTo(wt / total, 12);
    expect(exact.rbo.mean).toBeCloseTo(rb / total, 12);
    expect(exact.rbo.min).toBeCloseTo(rbMin, 12);
    const sampled = await analyzeGroup(runs, { topK: 5, samplePairs: 500 });
    expect(sampled.weightedTau).toMatchObject({ pairs: 500, sampled: true });
    expect(sampled.rbo).toMatchObject({ pairs: 500, sampled: true });
    expect(sampled.weightedTau.standardError).toBeGreaterThan(0);
    expect(Math.abs(sampled.weightedTau.mean - exact.weightedTau.mean)).toBeLessThan(4 * sampled.weightedTau.standardError);
    expect(Math.abs(sampled.rbo.mean - exact.rbo.mean)).toBeLessThan(4 * sampled.rbo.standardError);
    expect(sampled.kendallTau.mean).toBe(exact.kendallTau.mean);
    // a sample at least as large as the group is every pair
    expect((await analyzeGroup(runs.slice(0, 10), { topK: 5, samplePairs: 45 })).weightedTau.sampled).toBe(false);
    await expect(analyzeGroup(runs, { topK: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(analyzeGroup(runs, { topK: 2.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(analyzeGroup(runs, { samplePairs: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('undefined metrics are n/a with a warning, never a pass', async () => {
    const flat = (runId: string): Snapshot => ({ ...syntheticRuns(1, 3, 1)[0]!, runId, features: ['a', 'b', 'c'], importances: [1, 1, 1] });
    const r = await analyzeGroup([flat('x'), flat('y')], { topK: 2 });
    const kendall = r.checks.find((c) => c.metric === 'kendallTau')!;
    expect(kendall).toMatchObject({ status: 'n/a', passed: false });
    expect(Number.isNaN(kendall.value)).toBe(true);
    expect(r.checks.find((c) => c.metric === 'weightedTau')!.status).toBe('n/a');
    // the top-2 sets are {a, b} both times (ties by name): those metrics are defined and pass
    expect(r.checks.find((c) => c.metric === 'topKOverlap')).toMatchObject({ value: 1, status: 'pass', passed: true });
    expect(
      r.warnings.some((w) =>
        /kendallTau is n\/a \(no pair of runs gives a finite value.*\); not checked against the threshold 0\.6/.test(w),
      ),
    ).toBe(true);
    // an undefined Nogueira estimate (every run selects every feature) is n/a too
    const all = await analyzeGroup([flat('x'), flat('y')], { topK: 3 });
    expect(all.checks.find((c) => c.metric === 'nogueira')).toMatchObject({ status: 'n/a', passed: false });
    expect(all.warnings.some((w) => /nogueira is n\/a \(every run selects every feature\)/.test(w))).toBe(true);
    // one run: one warning, every metric n/a
    const one = await analyzeGroup([flat('x')], { topK: 2 });
    expect(one.checks.every((c) => c.status === 'n/a' && !c.passed)).toBe(true);
    expect(one.warnings).toEqual(['t/m: only 1 run(s); stability needs at least two (every metric n/a)']);
  });

  it('analyzeGroup refuses snapshots without features and mixed groups', async () => {
    const [a, b] = syntheticRuns(2, 4, 2);
    await expect(analyzeGroup([a!, { ...b!, features: [], importances: [] }])).rejects.toThrow(/run r1 of t\/m has no features/);
    await expect(analyzeGroup([a!, { ...b!, universeId: 'X' }])).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('jaccard of sets', () => {
    expect(jaccard(new Set(['a', 'b']), new Set(['b', 'c']))).toBeCloseTo(1 / 3, 12);
    expect(jaccard(new Set(), new Set())).toBe(1);
  });
});

describe('snapshots and the store', () => {
  it("reads the Python stability tool's snake_case JSON as-is and writes one documented camelCase form", async () => {
    const dir = path.join(FIX, 'archive/fwd_ret_21d/lightgbm');
    const file = readdirSync(dir).find((f) => f.startsWith('00000000'))!;
    const raw = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const snap = parseSnapshot(raw, file);
    expect(snap.targetName).toBe(raw.target_name);
    expect(snap.createdAt).toBe(raw.created_at);
    expect(snap.features).toEqual(raw.feature_names);
    expect(snap.importances).toEqual(raw.importance_values);
    // variants of the field names
    const alt = parseSnapshot(
      { target_name: 't', method: 'm', run_id: 'x', timestamp: '2026-01-01', features: ['b', 'a'], importances: [1, 2] },
      'alt',
    );
    expect(alt.features).toEqual(['a', 'b']);
    expect(() => parseSnapshot({ hello: 1 }, 'foreign')).toThrow(SchemaError);
    const store = new SnapshotStore(tmp());
    const { path: p, snapshot } = await store.save({
      targetName: 't',
      method: 'm',
      features: ['x', 'y', 'z'],
      importances: [0.1, 0.5, 0.3],
      fold: 2,
    });
    const written = JSON.parse(readFileSync(p, 'utf8'));
    expect(written.schemaVersion).toBe(1);
    expect(written.features).toEqual(['y', 'z', 'x']);
    expect(written.fold).toBe(2);
    expect(path.basename(p)).toBe(`${snapshot.runId}.json`);
    expect(path.relative(store.baseDir, p)).toBe(path.join('t', 'm', `${snapshot.runId}.json`));
  });

  it('createdAt must be an ISO-8601 timestamp; snapshots list in chronological order', async () => {
    const doc = (createdAt: string) => ({
      target_name: 't',
      method: 'm',
      run_id: 'x',
      created_at: createdAt,
      feature_names: ['a'],
      importance_values: [1],
    });
    for (const ok of [
      '2026-01-01T12:00:00',
      '2026-01-01T12:00:00.123456',
      '2026-01-01 12:00:00',
      '2026-01-01T12:00Z',
      '2026-01-01T12:00:00+05:30',
      '2026-01-01',
      '2024-02-29T00:00:00Z',
    ]) {
      expect(parseSnapshot(doc(ok), 'ok').createdAt).toBe(ok);
    }
    for (const bad of [
      'yesterday',
      '',
      '2026-13-01',
      '2025-02-29',
      '2026-01-01T24:00:00',
      '2026-01-01T12:00:00+25:00',
      '1767268800',
      '2026/01/01',
    ]) {
      expect(() => parseSnapshot(doc(bad), 'bad'), bad).toThrow(/createdAt: must be an ISO-8601 timestamp/);
    }
    expect(parseTimestamp('2026-01-01T12:00:00+01:00')).toBe(Date.UTC(2026, 0, 1, 11));
    expect(parseTimestamp('2026-01-01T12:00:00')).toBe(Date.UTC(2026, 0, 1, 12));
    expect(parseTimestamp('2026-01-01T12:00:00.5Z')).toBe(Date.UTC(2026, 0, 1, 12, 0, 0, 500));
    const store = new SnapshotStore(tmp());
    await expect(
      store.save({ targetName: 't', method: 'm', features: ['a'], importances: [1], createdAt: 'last week' }),
    ).rejects.toBeInstanceOf(SchemaError);
    // lexically "2026-01-01T12:30:00+02:00" > "2026-01-01T11:00:00Z", but it is 10:30 UTC
    await store.save({
      targetName: 't',
      method: 'm',
      features: ['a'],
      importances: [1],
      createdAt: '2026-01-01T11:00:00Z',
      runId: 'second',
    });
    await store.save({
      targetName: 't',
      method: 'm',
      features: ['a'],
      importances: [1],
      createdAt: '2026-01-01T12:30:00+02:00',
      runId: 'first',
    });
    expect((await store.list()).snapshots.map((s) => s.runId)).toEqual(['first', 'second']);
  });

  it('a caller-supplied run id never silently replaces a snapshot: ConflictError, or overwrite: true', async () => {
    const store = new SnapshotStore(tmp());
    const first = await store.save({ targetName: 't', method: 'm', features: ['a', 'b'], importances: [2, 1], runId: 'fold-0' });
    const err = await store
      .save({ targetName: 't', method: 'm', features: ['a', 'b'], importances: [1, 2], runId: 'fold-0' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe('ERR_CONFLICT');
    expect(JSON.parse(readFileSync(first.path, 'utf8')).features).toEqual(['a', 'b']);
    await store.save({ targetName: 't', method: 'm', features: ['a', 'b'], importances: [1, 2], runId: 'fold-0', overwrite: true });
    expect(JSON.parse(readFileSync(first.path, 'utf8')).features).toEqual(['b', 'a']);
    expect(readdirSync(path.dirname(first.path))).toEqual(['fold-0.json']);
    const hook = await saveSnapshotHook({
      targetName: 't',
      method: 'm',
      outputDir: store.baseDir,
      importance: { a: 1 },
      runId: 'fold-0',
      logger: capturingLogger(),
    }).catch((e: unknown) => e);
    expect(hook).toBeInstanceOf(ConflictError);
  });

  it('an empty importance is refused at save time; an empty file in the store is an issue, skipped', async () => {
    const base = tmp();
    const store = new SnapshotStore(base);
    await expect(store.save({ targetName: 't', method: 'm', features: [], importances: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      saveSnapshotHook({ targetName: 't', method: 'm', outputDir: base, importance: {}, autoAnalyze: true, logger: capturingLogger() }),
    ).rejects.toThrow(/no features/);
    expect(existsSync(path.join(base, 't'))).toBe(false);
    for (let i = 0; i < 3; i++) await store.save({ targetName: 't', method: 'm', features: ['a', 'b', 'c'], importances: [3 - i, 2, 1] });
    const dir = path.join(base, 't', 'm');
    writeFileSync(
      path.join(dir, 'empty-camel.json'),
      JSON.stringify({
        schemaVersion: 1,
        targetName: 't',
        method: 'm',
        universeId: null,
        runId: 'e1',
        createdAt: '2026-01-01T00:00:00Z',
        features: [],
        importances: [],
        fold: null,
        seed: null,
        gitCommit: null,
        metadata: {},
      }),
    );
    writeFileSync(
      path.join(dir, 'empty-snake.json'),
      JSON.stringify({
        target_name: 't',
        method: 'm',
        run_id: 'e2',
        created_at: '2026-01-01T00:00:00',
        feature_names: [],
        importance_values: [],
      }),
    );
    const { snapshots, issues } = await store.list();
    expect(snapshots).toHaveLength(3);
    expect(issues.map((i) => path.basename(i.path)).sort()).toEqual(['empty-camel.json', 'empty-snake.json']);
    for (const i of issues) expect(i.reason).toMatch(/features: a snapshot needs at least one feature/);
    const log = capturingLogger();
    const all = await analyzeAllStabilityHook({ outputDir: base, logger: log });
    expect(all.reports).toHaveLength(1);
    expect(all.reports[0]!.runs).toBe(3);
    expect(all.errors).toEqual([]);
    expect(all.issues).toHaveLength(2);
    expect(readdirSync(dir)).toHaveLength(5);
  });

  it('groups are keyed by the (target, method, universe) tuple: method m[x] and method m of universe x stay apart', async () => {
    const base = tmp();
    const store = new SnapshotStore(base);
    for (let i = 0; i < 2; i++) {
      await store.save({ targetName: 't', method: 'm[x]', features: ['a', 'b'], importances: [2, 1] });
      await store.save({ targetName: 't', method: 'm', universeId: 'x', features: ['a', 'b'], importances: [1, 2] });
    }
    expect(groupId({ targetName: 't', method: 'm[x]', universeId: null })).toBe(groupId({ targetName: 't', method: 'm', universeId: 'x' }));
    expect(groupKey({ targetName: 't', method: 'm[x]', universeId: null })).not.toBe(
      groupKey({ targetName: 't', method: 'm', universeId: 'x' }),
    );
    const { groups } = await store.groups();
    expect(groups).toEqual([
      { targetName: 't', method: 'm', universeId: 'x' },
      { targetName: 't', method: 'm[x]', universeId: null },
    ]);
    const all = await analyzeAllStabilityHook({ outputDir: base, logger: capturingLogger() });
    expect(all.reports.map((r) => [r.group.method, r.group.universeId, r.runs])).toEqual([
      ['m', 'x', 2],
      ['m[x]', null, 2],
    ]);
  });

  it('rejects names that could escape the base directory, and never follows a symlink outside it', async () => {
    const base = tmp();
    const store = new SnapshotStore(base);
    for (const bad of ['..', '../x', '/abs', 'a/b', 'a\\b', '', '.', 'x\u0000']) {
      await expect(store.save({ targetName: bad, method: 'm', features: ['a'], importances: [1] })).rejects.toBeInstanceOf(UnsafePathError);
      await expect(store.save({ targetName: 't', method: bad, features: ['a'], importances: [1] })).rejects.toBeInstanceOf(UnsafePathError);
      await expect(
        store.save({ targetName: 't', method: 'm', universeId: bad || '..', features: ['a'], importances: [1] }),
      ).rejects.toBeInstanceOf(UnsafePathError);
      await expect(
        store.save({ targetName: 't', method: 'm', runId: bad || '..', features: ['a'], importances: [1] }),
      ).rejects.toBeInstanceOf(UnsafePathError);
    }
    const outside = tmp();
    mkdirSync(path.join(outside, 'm'));
    writeFileSync(
      path.join(outside, 'm', 'secret.json'),
      JSON.stringify({
        target_name: 'leak',
        method: 'm',
        run_id: 'x',
        created_at: '2026-01-01',
        feature_names: ['a'],
        importance_values: [1],
      }),
    );
    symlinkSync(outside, path.join(base, 'leak'));
    const { snapshots, issues } = await store.list();
    expect(snapshots.find((s) => s.targetName === 'leak')).toBeUndefined();
    expect(issues.some((i) => /outside/.test(i.reason))).toBe(true);
    await expect(store.save({ targetName: 'leak', method: 'm', features: ['a'], importances: [1] })).rejects.toBeInstanceOf(
      UnsafePathError,
    );
    expect(readdirSync(path.join(outside, 'm'))).toEqual(['secret.json']);
  });

  it('reports corrupted and foreign files, skips them, deletes nothing', async () => {
    const base = tmp();
    const store = new SnapshotStore(base);
    for (let i = 0; i < 3; i++) await store.save({ targetName: 't', method: 'm', features: ['a', 'b', 'c'], importances: [3 - i, 2, 1] });
    const dir = path.join(base, 't', 'm');
    writeFileSync(path.join(dir, 'broken.json'), '{"target_name": "t", ');
    writeFileSync(path.join(dir, 'foreign.json'), JSON.stringify({ some: 'other tool' }));
    writeFileSync(
      path.join(dir, 'unsorted.json'),
      JSON.stringify({
        schemaVersion: 1,
        targetName: 't',
        method: 'm',
        universeId: null,
        runId: 'u',
        createdAt: '2026-01-01T00:00:00Z',
        features: ['a', 'b'],
        importances: [1, 2],
        fold: null,
        seed: null,
        gitCommit: null,
        metadata: {},
      }),
    );
    const log = capturingLogger();
    const { reports, issues } = await analyzeAllStabilityHook({ outputDir: base, logger: log });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.runs).toBe(3);
    expect(issues).toHaveLength(3);
    expect(log.warns.filter((w) => w.startsWith('skipped')).length).toBe(3);
    expect(log.warns.join('\n')).toMatch(/broken\.json: not valid JSON/);
    expect(log.warns.join('\n')).toMatch(/foreign\.json: .*not a feature-importance snapshot/);
    expect(log.warns.join('\n')).toMatch(/unsorted\.json: .*descending/);
    expect(readdirSync(dir).length).toBe(6);
  });

  it('concurrent writers from several processes: every snapshot present and valid', async () => {
    const base = tmp();
    const script = path.join(tmp(), 'writer.mts'); // .mts: an ES module wherever it lives
    writeFileSync(
      script,
      `import { saveSnapshotHook } from ${JSON.stringify(path.join(ROOT, 'lib/index.ts'))};\n` +
        `for (let i = 0; i < 25; i++) await saveSnapshotHook({ targetName: 't', method: 'm', outputDir: ${JSON.stringify(base)}, importance: { a: Math.random(), b: Math.random(), c: i }, logger: { info() {}, warn() {} } });\n`,
    );
    await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<void>((resolve, reject) => {
            const k = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: 'ignore' });
            k.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
          }),
      ),
    );
    const { snapshots, issues } = await new SnapshotStore(base).list();
    expect(issues).toEqual([]);
    expect(snapshots).toHaveLength(100);
    expect(new Set(snapshots.map((s) => s.runId)).size).toBe(100);
    expect(readdirSync(path.join(base, 't', 'm')).filter((f) => f.startsWith('.')).length).toBe(0);
  }, 120_000);
});

describe('hooks, configuration, thresholds and warnings', () => {
  it('accepts importance as an object, a Map, or names/values; auto-analyses and warns below thresholds', async () => {
    const base = tmp();
    const log = capturingLogger();
    const common = { targetName: 'ret', method: 'tft_vsn', outputDir: base, logger: log, topK: 2 } as const;
    await saveSnapshotHook({ ...common, importance: { a: 3, b: 2, c: 1, d: 0.5 } });
    await saveSnapshotHook({
      ...common,
      importance: new Map([
        ['d', 3],
        ['c', 2],
        ['b', 1],
        ['a', 0.5],
      ]),
    });
    const third = await saveSnapshotFromSeriesHook({
      ...common,
      names: ['a', 'b', 'c', 'd'],
      values: [3, 2, 1, 0.5],
      autoAnalyze: true,
      fold: 1,
    });
    expect(third.snapshot.fold).toBe(1);
    expect(third.report!.runs).toBe(3);
    expect(third.analysisError).toBeUndefined();
    expect(third.report!.warnings.length).toBeGreaterThan(0);
    expect(log.warns.some((w) => /kendallTau .* below the threshold 0\.6/.test(w))).toBe(true);
    // thresholds low enough: no warnings
    const calm = await saveSnapshotHook({
      ...common,
      importance: { a: 3, b: 2, c: 1, d: 0.5 },
      autoAnalyze: true,
      thresholds: { minTopKOverlap: -1, minKendallTau: -1, minWeightedTau: -1, minRbo: -1, minNogueira: -1 },
    });
    expect(calm.report!.warnings).toEqual([]);
    // a bad topK is refused before anything is written
    const before = readdirSync(path.join(base, 'ret', 'tft_vsn')).length;
    await expect(saveSnapshotHook({ ...common, topK: 0, importance: { a: 1 } })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(readdirSync(path.join(base, 'ret', 'tft_vsn')).length).toBe(before);
  });

  it("YAML with the safety config's keys, validated, with defaults; unknown sibling keys warn; programmatic options override it", async () => {
    const dir = tmp();
    const f = path.join(dir, 'safety.yaml');
    writeFileSync(
      f,
      'safety:\n  feature_importance:\n    auto_analyze_stability: true\n    stability_thresholds:\n      min_top_k_overlap: 0.8\n      min_kendall_tau: 0.5\n',
    );
    const cfg = loadStabilityConfig(f);
    expect(cfg.autoAnalyze).toBe(true);
    expect(cfg.thresholds.minTopKOverlap).toBe(0.8);
    expect(cfg.thresholds.minKendallTau).toBe(0.5);
    expect(cfg.thresholds.minRbo).toBe(0.6);
    expect(cfg.topK).toBe(20);
    expect(stabilityConfigFrom({}).autoAnalyze).toBe(false);
    expect(stabilityConfigFrom({ safety: { feature_importance: null } }).topK).toBe(20);
    writeFileSync(f, 'safety:\n  feature_importance:\n    stability_thresholds:\n      min_kendall_tau: high\n');
    expect(() => loadStabilityConfig(f)).toThrow(/min_kendall_tau/);
    // a real safety config carries other settings beside the stability ones: warned about, not rejected
    writeFileSync(
      f,
      'safety:\n  leakage_checks: true\n  feature_importance:\n    save_raw_importances: true\n    top_k: 7\n    stability_thresholds:\n      min_rbo: 0.4\n',
    );
    const warned: string[] = [];
    const real = loadStabilityConfig(f, (m) => warned.push(m));
    expect(real.topK).toBe(7);
    expect(real.samplePairs).toBeNull();
    expect(real.thresholds.minRbo).toBe(0.4);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/safety\.feature_importance\.save_raw_importances: not a stability setting, ignored/);
    // the known keys stay validated, and a misspelt threshold is an error, not a silent default
    writeFileSync(f, 'safety:\n  feature_importance:\n    top_k: 0\n    other: 1\n');
    expect(() => loadStabilityConfig(f, () => {})).toThrow(SchemaError);
    writeFileSync(f, 'safety:\n  feature_importance:\n    sample_pairs: 2.5\n');
    expect(() => loadStabilityConfig(f)).toThrow(/sample_pairs/);
    writeFileSync(f, 'safety:\n  feature_importance:\n    sample_pairs: 2\n');
    expect(loadStabilityConfig(f).samplePairs).toBe(2);
    writeFileSync(f, 'safety:\n  feature_importance:\n    stability_thresholds:\n      min_kendal_tau: 0.5\n');
    expect(() => loadStabilityConfig(f)).toThrow(/min_kendal_tau/);
    const base = tmp();
    const r = await saveSnapshotHook({
      targetName: 't',
      method: 'm',
      importance: { a: 1 },
      outputDir: base,
      config: cfg,
      autoAnalyze: false,
      logger: capturingLogger(),
    });
    expect(r.report).toBeUndefined();
  });

  it('config lookup: configPath, then $TFT_STABILITY_CONFIG, then the default files, then built-in defaults', async () => {
    const dir = tmp();
    const write = (rel: string, topK: number, extra = '') => {
      const f = path.join(dir, rel);
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, `safety:\n  feature_importance:\n    auto_analyze_stability: true\n    top_k: ${topK}\n${extra}`);
      return f;
    };
    expect(resolveStabilityConfigPath({ cwd: dir, env: {} })).toBeNull();
    const seedLocation = write('CONFIG/training_config/safety_config.yaml', 3);
    expect(resolveStabilityConfigPath({ cwd: dir, env: {} })).toEqual({ path: seedLocation, source: 'default' });
    const ours = write('configs/safety_config.yaml', 4);
    expect(resolveStabilityConfigPath({ cwd: dir, env: {} })).toEqual({ path: ours, source: 'default' });
    const fromEnv = write('env.yaml', 5);
    expect(resolveStabilityConfigPath({ cwd: dir, env: { TFT_STABILITY_CONFIG: fromEnv } })).toEqual({ path: fromEnv, source: 'env' });
    const explicit = write('explicit.yaml', 2, '    stability_thresholds:\n      min_kendall_tau: -1\n');
    expect(resolveStabilityConfigPath({ cwd: dir, env: { TFT_STABILITY_CONFIG: fromEnv }, configPath: explicit })).toEqual({
      path: explicit,
      source: 'option',
    });

    // the hooks read the file: auto-analysis, top_k and thresholds from it
    const base = tmp();
    const log = capturingLogger();
    const fromFile = { targetName: 't', method: 'm', outputDir: base, configPath: explicit, logger: log };
    await saveSnapshotHook({ ...fromFile, importance: { a: 3, b: 2, c: 1 } });
    const second = await saveSnapshotHook({ ...fromFile, importance: { c: 3, b: 2, a: 1 } });
    expect(second.report!.topK).toBe(2);
    expect(second.report!.thresholds.minKendallTau).toBe(-1);
    expect(second.report!.checks.find((c) => c.metric === 'kendallTau')!.status).toBe('pass');
    // programmatic options still win over the file; sampling is opt-in (3 runs, 3 pairs: 2 sampled)
    const third = await saveSnapshotHook({ ...fromFile, importance: { a: 1, b: 2, c: 3 }, topK: 1, samplePairs: 2, autoAnalyze: true });
    expect(third.report!.topK).toBe(1);
    expect(third.report!.weightedTau).toMatchObject({ sampled: true, pairs: 2 });
    expect(third.report!.kendallTau).toMatchObject({ sampled: false, pairs: 3 });
    expect(second.report!.weightedTau.sampled).toBe(false);
    const previous = process.env.TFT_STABILITY_CONFIG;
    process.env.TFT_STABILITY_CONFIG = fromEnv;
    try {
      const all = await analyzeAllStabilityHook({ outputDir: base, logger: capturingLogger() });
      expect(all.reports[0]!.topK).toBe(5);
      const viaEnv = await saveSnapshotHook({
        targetName: 't',
        method: 'm',
        outputDir: base,
        importance: { a: 1, b: 3, c: 2 },
        logger: capturingLogger(),
      });
      expect(viaEnv.report!.topK).toBe(5);
      process.env.TFT_STABILITY_CONFIG = path.join(dir, 'missing.yaml');
      await expect(analyzeAllStabilityHook({ outputDir: base, logger: capturingLogger() })).rejects.toThrow(/missing\.yaml: cannot read/);
    } finally {
      if (previous === undefined) delete process.env.TFT_STABILITY_CONFIG;
      else process.env.TFT_STABILITY_CONFIG = previous;
    }
    await expect(saveSnapshotHook({ ...fromFile, importance: { a: 1 }, configPath: path.join(dir, 'nope.yaml') })).rejects.toThrow(
      /nope\.yaml/,
    );
  });
});

describe('CLI', () => {
  // `tft-native stability analyze` of the archive fixture's group
  const ANALYZE_ARCHIVE = ['stability', 'analyze', '--target', 'fwd_ret_21d', '--method', 'lightgbm'];
  it('the usual command line, without --universe, analyses every universe of (target, method)', async () => {
    // `tft-native stability analyze --target T --method M --top-k 20`, run where the default store is
    const cwd = tmp();
    cpSync(path.join(FIX, 'archive'), path.join(cwd, 'artifacts/feature_importance'), { recursive: true });
    const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      // tsx by file URL: the working directory is outside the project, where `--import tsx` would not resolve
      const tsx = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
      const k = spawn(process.execPath, ['--import', tsx, path.join(ROOT, 'lib/cli/main.ts'), ...ANALYZE_ARCHIVE, '--top-k', '20'], {
        cwd,
        env: { ...process.env, TFT_NATIVE_CLI: '1', TFT_STABILITY_CONFIG: '' },
      });
      let out = '';
      let err = '';
      k.stdout.on('data', (d) => (out += d));
      k.stderr.on('data', (d) => (err += d));
      k.on('exit', (code) => resolve({ code, out, err }));
    });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^fwd_ret_21d\/lightgbm\[AAPL\]: 7 runs, 12 features, top-20$/m);
    expect(run.out).toMatch(/^fwd_ret_21d\/lightgbm\[ALL\]: 6 runs, 25 features, top-20$/m);
    expect(run.out.indexOf('[AAPL]')).toBeLessThan(run.out.indexOf('[ALL]'));
    // the same with --base-dir
    const base = path.join(cwd, 'artifacts/feature_importance');
    const json = await cli([...ANALYZE_ARCHIVE, '--base-dir', base, '--top-k', '8', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out);
    expect(doc.reports.map((r: { group: { universeId: string } }) => r.group.universeId)).toEqual(['AAPL', 'ALL']);
    expect(doc.reports[1].kendallTau.mean).toBeCloseTo(EXPECTED.groups.ALL.kendallTauMean, 12);
    expect(doc.errors).toEqual([]);
  }, 60_000);

  it('analyze prints the table; --json; exit codes: 0 with warnings, 3 with --fail-on-warning, 1 on errors, 2 on usage errors', async () => {
    const base = tmp();
    cpSync(path.join(FIX, 'archive'), base, { recursive: true });
    const args = [...ANALYZE_ARCHIVE, '--universe', 'ALL', '--top-k', '8', '--base-dir', base];
    const table = await cli(args);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/fwd_ret_21d\/lightgbm\[ALL\]: 6 runs/);
    expect(table.out).not.toMatch(/\[AAPL\]/);
    expect(table.out).toMatch(/Kendall tau-b\s+0\.584/);
    expect(table.out).toMatch(/top-8 overlap \(Jaccard\)\s+0\.363\s+0\.70\s+WARN/);
    expect(table.out).toMatch(/rank-biased overlap \(p=0\.88\)\s+0\.506\s+0\.60\s+WARN/);
    expect(table.out).toMatch(/stable features \(in the top-8 of ≥ 50% of runs\): \d+ of 25/);
    expect(table.out).toMatch(/95% CI 0\.221 \.\. 0\.382/);
    expect(table.out).toMatch(/most stable:/);
    const strict = await cli([...args, '--fail-on-warning']);
    expect(strict.code).toBe(3);
    const json = await cli([...args, '--json', '--matrices']);
    const doc = JSON.parse(json.out);
    expect(doc.reports).toHaveLength(1);
    expect(doc.reports[0].kendallTau.mean).toBeCloseTo(0.5839866121424878, 12);
    expect(doc.reports[0].matrices.kendallTau).toHaveLength(6);
    expect(doc.reports[0].matrices.rbo).toHaveLength(6);
    const sampled = JSON.parse((await cli([...args, '--json', '--sample-pairs', '5'])).out);
    expect(sampled.reports[0].weightedTau).toMatchObject({ pairs: 5, sampled: true });
    const all = await cli(['stability', 'analyze-all', '--base-dir', base]);
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/\[ALL\]: 6 runs/);
    expect(all.out).toMatch(/\[AAPL\]: 7 runs/);
    for (const bad of ['0', '-3', '2.5', 'abc', '1e3', '']) {
      const usage = await cli([...args.slice(0, -4), '--top-k', bad, '--base-dir', base]);
      expect(usage.code, `--top-k ${bad}`).toBe(2);
      expect(usage.err).toMatch(/--top-k.*must be an integer ≥ 1/);
    }
    expect((await cli(['stability', 'analyze-all', '--base-dir', base, '--sample-pairs', '0'])).code).toBe(2);
    const missing = await cli(['stability', 'analyze', '--target', 'nope', '--method', 'lightgbm', '--base-dir', base]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no snapshots for nope\/lightgbm/);
    const hostile = await cli(['stability', 'analyze', '--target', '../etc', '--method', 'x', '--base-dir', base]);
    expect(hostile.code).toBe(1);
    expect(hostile.err).toMatch(/ERR_UNSAFE_PATH/);
    expect(existsSync(base)).toBe(true);
  });

  it('n/a metrics print as n/a and count as warnings; empty and broken files are reported without failing', async () => {
    const base = tmp();
    const store = new SnapshotStore(base);
    for (const runId of ['x', 'y'])
      await store.save({ targetName: 'flat', method: 'm', features: ['a', 'b', 'c'], importances: [1, 1, 1], runId });
    writeFileSync(
      path.join(base, 'flat', 'm', 'empty.json'),
      JSON.stringify({
        target_name: 'flat',
        method: 'm',
        run_id: 'e',
        created_at: '2026-01-01T00:00:00',
        feature_names: [],
        importance_values: [],
      }),
    );
    const r = await cli(['stability', 'analyze', '--target', 'flat', '--method', 'm', '--top-k', '2', '--base-dir', base]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Kendall tau-b\s+n\/a\s+0\.60\s+n\/a/);
    expect(r.out).toMatch(/WARNING flat\/m: kendallTau is n\/a/);
    expect(r.out).toMatch(/skipped .*empty\.json: .*at least one feature/);
    expect(
      (await cli(['stability', 'analyze', '--target', 'flat', '--method', 'm', '--top-k', '2', '--base-dir', base, '--fail-on-warning']))
        .code,
    ).toBe(3);
    const all = await cli(['stability', 'analyze-all', '--base-dir', base, '--json']);
    expect(all.code).toBe(0);
    const doc = JSON.parse(all.out);
    expect(doc.reports[0].checks.find((c: { metric: string }) => c.metric === 'kendallTau')).toMatchObject({
      value: null,
      status: 'n/a',
      passed: false,
    });
    expect(doc.issues).toHaveLength(1);
  });

  it('reads the config file (--config, $TFT_STABILITY_CONFIG); unknown sibling keys warn on stderr', async () => {
    const base = tmp();
    cpSync(path.join(FIX, 'archive'), base, { recursive: true });
    const f = path.join(tmp(), 'safety.yaml');
    writeFileSync(
      f,
      `safety:\n  feature_importance:\n    base_dir: ${JSON.stringify(base)}\n    top_k: 8\n    other_setting: 1\n    stability_thresholds:\n      min_top_k_overlap: 0.3\n`,
    );
    const r = await cli([...ANALYZE_ARCHIVE, '--universe', 'ALL', '--config', f]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/top-8 overlap \(Jaccard\)\s+0\.363\s+0\.30\s+pass/);
    expect(r.err).toMatch(/other_setting: not a stability setting, ignored/);
    const previous = process.env.TFT_STABILITY_CONFIG;
    process.env.TFT_STABILITY_CONFIG = f;
    try {
      const viaEnv = await cli([...ANALYZE_ARCHIVE, '--universe', 'ALL']);
      expect(viaEnv.code).toBe(0);
      expect(viaEnv.out).toMatch(/top-8 overlap \(Jaccard\)\s+0\.363\s+0\.30\s+pass/);
    } finally {
      if (previous === undefined) delete process.env.TFT_STABILITY_CONFIG;
      else process.env.TFT_STABILITY_CONFIG = previous;
    }
  });
});
