import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  SchemaError,
  SnapshotStore,
  UnsafePathError,
  analyzeAllStabilityHook,
  analyzeGroup,
  jaccard,
  loadStabilityConfig,
  nogueiraStability,
  parseSnapshot,
  rankBiasedOverlap,
  rboPForTopK,
  saveSnapshotFromSeriesHook,
  saveSnapshotHook,
  stabilityConfigFrom,
  type StabilityLogger,
} from '../../lib/index.js';
import { runCli as cli } from '../helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIX = path.join(ROOT, 'test/fixtures/stability');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'tft-stab-'));

function capturingLogger(): StabilityLogger & { infos: string[]; warns: string[] } {
  const infos: string[] = [];
  const warns: string[] = [];
  return { infos, warns, info: (m) => infos.push(m), warn: (m) => warns.push(m) };
}


describe('metrics against independent computations', () => {
  it('rank-biased overlap: worked examples', () => {
    // X_1 = 0, X_2 = 2, X_3 = 3, X_4 = 4 at p = 0.9: (1/9)(0 + 0.81 + 0.729 + 0.6561) + 0.6561 = 0.9
    expect(rankBiasedOverlap(['a', 'b', 'c', 'd'], ['b', 'a', 'c', 'd'], 0.9)).toBeCloseTo(0.9, 12);
    expect(rankBiasedOverlap(['a', 'b', 'c'], ['a', 'b', 'c'], 0.7)).toBeCloseTo(1, 12);
    expect(rankBiasedOverlap(['a', 'b', 'c'], ['x', 'y', 'z'], 0.7)).toBe(0);
    // one shared element at depth 1 only: X_d = 1 for all d, k = 2, p = 0.5: (1/2)(0.25) + 1·(1·0.5 + 0.5·0.25) = 0.75
    expect(rankBiasedOverlap(['a', 'b'], ['a', 'c'], 0.5)).toBeCloseTo(0.75, 12);
    expect(rboPForTopK(20)).toBeCloseTo(0.95, 12);
  });

  it('Nogueira et al. stability: hand-worked cases and degenerate ones', () => {
    const z = (rows: number[][]) => rows.map((r) => Uint8Array.from(r));
    // identical selections: perfect stability, zero variance
    const same = nogueiraStability(z([[1, 1, 0], [1, 1, 0], [1, 1, 0]]));
    expect(same.value).toBeCloseTo(1, 12);
    expect(same.variance).toBeCloseTo(0, 12);
    // disjoint selections of one of two features: p = (.5, .5), k̄ = 1, d = 2 → 1 − 2·0.25/0.25 = −1
    expect(nogueiraStability(z([[1, 0], [0, 1]])).value).toBeCloseTo(-1, 12);
    // p = (1, .5, .5, 0), M = 2, k̄ = 2, d = 4: s² mean = 2·(0 + .25 + .25 + 0)/4 = .25, denom = .25 → 0
    const half = nogueiraStability(z([[1, 1, 0, 0], [1, 0, 1, 0]]));
    expect(half.value).toBeCloseTo(0, 12);
    expect(half.ci95[0]).toBeLessThanOrEqual(half.value);
    expect(half.ci95[1]).toBeGreaterThanOrEqual(half.value);
    expect(nogueiraStability(z([[1, 0, 1]])).undefinedBecause).toMatch(/fewer than two/);
    expect(nogueiraStability(z([[0, 0], [0, 0]])).undefinedBecause).toMatch(/no run selects/);
    expect(nogueiraStability(z([[1, 1], [1, 1]])).undefinedBecause).toMatch(/every feature/);
    expect(Number.isNaN(nogueiraStability(z([[1, 1], [1, 1]])).value)).toBe(true);
  });

  it('a group read from a snake_case archive matches scipy and the reference formulas', async () => {
    const expected = JSON.parse(readFileSync(path.join(FIX, 'expected.json'), 'utf8'));
    const store = new SnapshotStore(path.join(FIX, 'archive'));
    const { snapshots, issues } = await store.list({ targetName: 'fwd_ret_21d', method: 'lightgbm' });
    expect(issues).toEqual([]);
    expect(snapshots).toHaveLength(expected.runs);
    expect(snapshots[0]!.universeId).toBe('ALL');
    const r = await analyzeGroup(snapshots, { topK: expected.topK });
    expect(r.kendallTau.mean).toBeCloseTo(expected.kendallTauMean, 12);
    expect(r.weightedTau.mean).toBeCloseTo(expected.weightedTauMean, 12);
    expect(r.topKOverlap.mean).toBeCloseTo(expected.topKOverlapMean, 12);
    expect(r.nogueira.value).toBeCloseTo(expected.nogueira, 12);
    expect(r.features).toBe(expected.features);
    for (const s of r.selection) expect(s.frequency).toBeCloseTo(expected.selectionFrequency[s.feature], 12);
    expect(r.selection[0]!.frequency).toBe(Math.max(...Object.values(expected.selectionFrequency as Record<string, number>)));
  });

  it('sampled pairs for large groups estimate the full mean within their standard error', async () => {
    const store = new SnapshotStore(path.join(FIX, 'archive'));
    const { snapshots } = await store.list();
    const many = Array.from({ length: 40 }, (_, i) => ({ ...snapshots[i % snapshots.length]!, runId: `r${i}`, importances: snapshots[i % snapshots.length]!.importances.map((v, j) => v * (1 + ((i * 31 + j * 17) % 11) / 40)) }));
    for (const s of many) {
      const order = s.features.map((_, j) => j).sort((a, b) => s.importances[b]! - s.importances[a]!);
      s.features = order.map((j) => s.features[j]!);
      s.importances = order.map((j) => s.importances[j]!);
    }
    const full = await analyzeGroup(many, { topK: 8 });
    const sampled = await analyzeGroup(many, { topK: 8, maxPairs: 300 });
    expect(full.weightedTau.sampled).toBe(false);
    expect(sampled.weightedTau.sampled).toBe(true);
    expect(sampled.weightedTau.pairs).toBe(300);
    expect(Math.abs(sampled.weightedTau.mean - full.weightedTau.mean)).toBeLessThan(4 * sampled.weightedTau.standardError + 1e-9);
    expect(sampled.kendallTau.mean).toBe(full.kendallTau.mean);
  });

  it('jaccard of sets', () => {
    expect(jaccard(new Set(['a', 'b']), new Set(['b', 'c']))).toBeCloseTo(1 / 3, 12);
    expect(jaccard(new Set(), new Set())).toBe(1);
  });
});

describe('snapshots and the store', () => {
  it('reads the seed\'s snake_case JSON as-is and writes one documented camelCase form', async () => {
    const file = readdirSync(path.join(FIX, 'archive/fwd_ret_21d/lightgbm'))[0]!;
    const raw = JSON.parse(readFileSync(path.join(FIX, 'archive/fwd_ret_21d/lightgbm', file), 'utf8'));
    const snap = parseSnapshot(raw, file);
    expect(snap.targetName).toBe(raw.target_name);
    expect(snap.features).toEqual(raw.feature_names);
    expect(snap.importances).toEqual(raw.importance_values);
    // variants of the field names
    const alt = parseSnapshot({ target_name: 't', method: 'm', run_id: 'x', timestamp: '2026-01-01', features: ['b', 'a'], importances: [1, 2] }, 'alt');
    expect(alt.features).toEqual(['a', 'b']);
    expect(() => parseSnapshot({ hello: 1 }, 'foreign')).toThrow(SchemaError);
    const store = new SnapshotStore(tmp());
    const { path: p, snapshot } = await store.save({ targetName: 't', method: 'm', features: ['x', 'y', 'z'], importances: [0.1, 0.5, 0.3], fold: 2 });
    const written = JSON.parse(readFileSync(p, 'utf8'));
    expect(written.schemaVersion).toBe(1);
    expect(written.features).toEqual(['y', 'z', 'x']);
    expect(written.fold).toBe(2);
    expect(path.basename(p)).toBe(`${snapshot.runId}.json`);
    expect(path.relative(store.baseDir, p)).toBe(path.join('t', 'm', `${snapshot.runId}.json`));
  });

  it('rejects names that could escape the base directory, and never follows a symlink outside it', async () => {
    const base = tmp();
    const store = new SnapshotStore(base);
    for (const bad of ['..', '../x', '/abs', 'a/b', 'a\\b', '', '.', 'x\u0000']) {
      await expect(store.save({ targetName: bad, method: 'm', features: ['a'], importances: [1] })).rejects.toBeInstanceOf(UnsafePathError);
      await expect(store.save({ targetName: 't', method: bad, features: ['a'], importances: [1] })).rejects.toBeInstanceOf(UnsafePathError);
      await expect(store.save({ targetName: 't', method: 'm', universeId: bad || '..', features: ['a'], importances: [1] })).rejects.toBeInstanceOf(UnsafePathError);
    }
    const outside = tmp();
    mkdirSync(path.join(outside, 'm'));
    writeFileSync(path.join(outside, 'm', 'secret.json'), JSON.stringify({ target_name: 'leak', method: 'm', run_id: 'x', created_at: 'now', feature_names: ['a'], importance_values: [1] }));
    symlinkSync(outside, path.join(base, 'leak'));
    const { snapshots, issues } = await store.list();
    expect(snapshots.find((s) => s.targetName === 'leak')).toBeUndefined();
    expect(issues.some((i) => /outside/.test(i.reason))).toBe(true);
    await expect(store.save({ targetName: 'leak', method: 'm', features: ['a'], importances: [1] })).rejects.toBeInstanceOf(UnsafePathError);
    expect(readdirSync(path.join(outside, 'm'))).toEqual(['secret.json']);
  });

  it('reports corrupted and foreign files, skips them, deletes nothing', async () => {
    const base = tmp();
    const store = new SnapshotStore(base);
    for (let i = 0; i < 3; i++) await store.save({ targetName: 't', method: 'm', features: ['a', 'b', 'c'], importances: [3 - i, 2, 1] });
    const dir = path.join(base, 't', 'm');
    writeFileSync(path.join(dir, 'broken.json'), '{"target_name": "t", ');
    writeFileSync(path.join(dir, 'foreign.json'), JSON.stringify({ some: 'other tool' }));
    writeFileSync(path.join(dir, 'unsorted.json'), JSON.stringify({ schemaVersion: 1, targetName: 't', method: 'm', universeId: null, runId: 'u', createdAt: 'x', features: ['a', 'b'], importances: [1, 2], fold: null, seed: null, gitCommit: null, metadata: {} }));
    const log = capturingLogger();
    const reports = await analyzeAllStabilityHook({ outputDir: base, logger: log });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.runs).toBe(3);
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
    await saveSnapshotHook({ ...common, importance: new Map([['d', 3], ['c', 2], ['b', 1], ['a', 0.5]]) });
    const third = await saveSnapshotFromSeriesHook({ ...common, names: ['a', 'b', 'c', 'd'], values: [3, 2, 1, 0.5], autoAnalyze: true, fold: 1 });
    expect(third.snapshot.fold).toBe(1);
    expect(third.report!.runs).toBe(3);
    expect(third.report!.warnings.length).toBeGreaterThan(0);
    expect(log.warns.some((w) => /kendallTau .* below the threshold 0\.6/.test(w))).toBe(true);
    // thresholds low enough: no warnings
    const calm = await saveSnapshotHook({ ...common, importance: { a: 3, b: 2, c: 1, d: 0.5 }, autoAnalyze: true, thresholds: { minTopKOverlap: -1, minKendallTau: -1, minWeightedTau: -1, minRbo: -1, minNogueira: -1 } });
    expect(calm.report!.warnings).toEqual([]);
  });

  it('YAML with the seed\'s keys, validated, with defaults; programmatic options override it', async () => {
    const dir = tmp();
    const f = path.join(dir, 'safety.yaml');
    writeFileSync(f, 'safety:\n  feature_importance:\n    auto_analyze_stability: true\n    stability_thresholds:\n      min_top_k_overlap: 0.8\n      min_kendall_tau: 0.5\n');
    const cfg = loadStabilityConfig(f);
    expect(cfg.autoAnalyze).toBe(true);
    expect(cfg.thresholds.minTopKOverlap).toBe(0.8);
    expect(cfg.thresholds.minKendallTau).toBe(0.5);
    expect(cfg.thresholds.minRbo).toBe(0.6);
    expect(cfg.topK).toBe(20);
    expect(stabilityConfigFrom({}).autoAnalyze).toBe(false);
    writeFileSync(f, 'safety:\n  feature_importance:\n    stability_thresholds:\n      min_kendall_tau: high\n');
    expect(() => loadStabilityConfig(f)).toThrow(/min_kendall_tau/);
    writeFileSync(f, 'safety:\n  feature_importance:\n    unknown_key: 1\n');
    expect(() => loadStabilityConfig(f)).toThrow(SchemaError);
    const base = tmp();
    const r = await saveSnapshotHook({ targetName: 't', method: 'm', importance: { a: 1 }, outputDir: base, config: cfg, autoAnalyze: false, logger: capturingLogger() });
    expect(r.report).toBeUndefined();
  });
});

describe('CLI', () => {
  it('analyze prints the table; --json; exit codes: 0 with warnings, 3 with --fail-on-warning, 1 on errors', async () => {
    const base = tmp();
    cpSync(path.join(FIX, 'archive'), base, { recursive: true });
    const table = await cli(['stability', 'analyze', '--target', 'fwd_ret_21d', '--method', 'lightgbm', '--universe', 'ALL', '--top-k', '8', '--base-dir', base]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/fwd_ret_21d\/lightgbm\[ALL\]: 6 runs/);
    expect(table.out).toMatch(/Kendall tau-b\s+0\.584/);
    expect(table.out).toMatch(/top-8 overlap \(Jaccard\)\s+0\.363\s+0\.70\s+WARN/);
    expect(table.out).toMatch(/most stable:/);
    const strict = await cli(['stability', 'analyze', '--target', 'fwd_ret_21d', '--method', 'lightgbm', '--universe', 'ALL', '--top-k', '8', '--base-dir', base, '--fail-on-warning']);
    expect(strict.code).toBe(3);
    const json = await cli(['stability', 'analyze', '--target', 'fwd_ret_21d', '--method', 'lightgbm', '--universe', 'ALL', '--top-k', '8', '--base-dir', base, '--json', '--matrices']);
    const doc = JSON.parse(json.out);
    expect(doc.kendallTau.mean).toBeCloseTo(0.5839866121424878, 12);
    expect(doc.matrices.kendallTau).toHaveLength(6);
    const all = await cli(['stability', 'analyze-all', '--base-dir', base]);
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/6 runs/);
    const missing = await cli(['stability', 'analyze', '--target', 'nope', '--method', 'lightgbm', '--base-dir', base]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no snapshots for nope\/lightgbm/);
    const hostile = await cli(['stability', 'analyze', '--target', '../etc', '--method', 'x', '--base-dir', base]);
    expect(hostile.code).toBe(1);
    expect(hostile.err).toMatch(/ERR_UNSAFE_PATH/);
    expect(existsSync(base)).toBe(true);
  });
});
