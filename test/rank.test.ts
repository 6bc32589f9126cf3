import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  CudaUnavailableError,
  DTypeError,
  InvalidArgumentError,
  NonFiniteError,
  ShapeError,
  TftError,
  capabilities,
  kendallAlgorithmFor,
  kendallTau,
  kendallTauMatrix,
  kendallTauMatrixSync,
  MarketDataStore,
  MOMENTUM_DEFAULTS,
  momentumStability,
  rankBiasedOverlap,
  rboMatrix,
  setKendallAlgorithm,
  spearman,
  spearmanMatrix,
  spearmanMatrixSync,
  topKJaccard,
  topKJaccardMatrix,
  topKJaccardMatrixSync,
  weightedTau,
  weightedTauMatrix,
  weightedTauMatrixSync,
  setCpuIsa,
  supportedCpuIsas,
} from '../lib/index.js';
import {
  expectClose,
  mulberry32,
  naiveKendall,
  naiveSpearman,
  naiveTopKJaccard,
  naiveWeightedTau,
  randomRankings,
} from './helpers/naive-rank.js';
import { fixturePath } from './helpers/fixtures.js';

interface FixtureCase {
  name: string;
  m: number;
  n: number;
  k: number;
  values: (number | null)[][];
  kendall: (number | null)[][];
  weighted_tau: (number | null)[][];
  spearman: (number | null)[][];
  topk_jaccard: (number | null)[][];
}

const fixtures = JSON.parse(readFileSync(fixturePath('rank', 'scipy_rank_fixtures.json'), 'utf8')) as {
  cases: FixtureCase[];
};

function flat(rows: (number | null)[][]): Float64Array {
  return Float64Array.from(rows.flat(), (v) => (v === null ? Number.NaN : v));
}

function assertMatrix(actual: Float64Array, expected: (number | null)[][], tol: number, label: string): void {
  const m = expected.length;
  expect(actual.length).toBe(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const e = expected[i]![j]!;
      const a = actual[i * m + j]!;
      if (e === null) {
        expect(Number.isNaN(a), `${label}[${i},${j}] should be NaN, got ${a}`).toBe(true);
      } else {
        expect(Math.abs(a - e), `${label}[${i},${j}]: ${a} vs scipy ${e}`).toBeLessThanOrEqual(tol);
      }
    }
  }
}

afterEach(() => setKendallAlgorithm('auto'));

// Every kernel path this CPU supports (scalar, avx2, avx512) runs the same scipy and definition checks.
describe.each(supportedCpuIsas())('kernels: %s', (isa) => {
  beforeAll(() => setCpuIsa(isa));
  afterAll(() => setCpuIsa('auto'));

  describe('rank statistics equal scipy (golden fixtures from reference/fixtures/make_rank_fixtures.py)', () => {
    for (const c of fixtures.cases) {
      const input = { data: flat(c.values), rows: c.m, cols: c.n };
      it(`${c.name}: Kendall tau-b, both exact algorithms`, async () => {
        for (const alg of ['bitset', 'fenwick'] as const) {
          setKendallAlgorithm(alg);
          assertMatrix(kendallTauMatrixSync(input), c.kendall, 1e-12, `kendall/${alg}`);
          assertMatrix(await kendallTauMatrix(input), c.kendall, 1e-12, `kendall/${alg}/async`);
        }
      });
      it(`${c.name}: weighted tau`, async () => {
        assertMatrix(weightedTauMatrixSync(input), c.weighted_tau, 1e-12, 'weighted_tau');
        assertMatrix(await weightedTauMatrix(input), c.weighted_tau, 1e-12, 'weighted_tau/async');
      });
      it(`${c.name}: Spearman`, async () => {
        assertMatrix(spearmanMatrixSync(input), c.spearman, 1e-12, 'spearman');
        assertMatrix(await spearmanMatrix(input), c.spearman, 1e-12, 'spearman/async');
      });
      it(`${c.name}: top-${c.k} Jaccard`, async () => {
        assertMatrix(topKJaccardMatrixSync(input, c.k), c.topk_jaccard, 0, 'topk');
        assertMatrix(await topKJaccardMatrix(input, c.k), c.topk_jaccard, 0, 'topk/async');
      });
      it(`${c.name}: single-pair forms agree with the matrices`, () => {
        const rows = c.values.map((r) => r.map((v) => (v === null ? Number.NaN : v)));
        for (let i = 0; i < c.m; i++) {
          for (let j = 0; j < c.m; j++) {
            expect(expectClose(kendallTau(rows[i]!, rows[j]!), c.kendall[i]![j] ?? Number.NaN, 1e-12)).toBe(true);
            expect(expectClose(weightedTau(rows[i]!, rows[j]!), c.weighted_tau[i]![j] ?? Number.NaN, 1e-12)).toBe(true);
            expect(expectClose(spearman(rows[i]!, rows[j]!), c.spearman[i]![j] ?? Number.NaN, 1e-12)).toBe(true);
            expect(expectClose(topKJaccard(rows[i]!, rows[j]!, c.k), c.topk_jaccard[i]![j] ?? Number.NaN, 0)).toBe(true);
          }
        }
      });
    }

    it('accepts Float32Array input (values exactly representable) with identical results', () => {
      const c = fixtures.cases.find((x) => x.name === 'ties_and_nan')!;
      const f32 = Float32Array.from(flat(c.values));
      assertMatrix(kendallTauMatrixSync({ data: f32, rows: c.m, cols: c.n }), c.kendall, 1e-12, 'kendall/f32');
      assertMatrix(spearmanMatrixSync({ data: f32, rows: c.m, cols: c.n }), c.spearman, 1e-12, 'spearman/f32');
    });

    it('accepts an array of rows with null for absent features', () => {
      const c = fixtures.cases.find((x) => x.name === 'ties_and_nan')!;
      assertMatrix(kendallTauMatrixSync(c.values), c.kendall, 1e-12, 'kendall/rows');
    });
  });

  describe('property tests against O(n²) definitions', () => {
    const rng = mulberry32(7);
    const shapes: [number, number, number, number][] = [
      // m, n, levels (0 = continuous), NaN probability
      [4, 2, 0, 0],
      [6, 17, 3, 0.1],
      [9, 64, 0, 0],
      [7, 65, 10, 0.2],
      [5, 127, 2, 0],
      [8, 200, 25, 0.05],
      [3, 333, 0, 0.3],
    ];
    for (const [m, n, levels, nanP] of shapes) {
      it(`m=${m} n=${n} levels=${levels} nan=${nanP}`, () => {
        for (let rep = 0; rep < 3; rep++) {
          const data = randomRankings(rng, m, n, levels, nanP);
          const input = { data, rows: m, cols: n };
          const k = 1 + Math.floor(rng() * n);
          const kb = (setKendallAlgorithm('bitset'), kendallTauMatrixSync(input));
          const kf = (setKendallAlgorithm('fenwick'), kendallTauMatrixSync(input));
          const wt = weightedTauMatrixSync(input);
          const sp = spearmanMatrixSync(input);
          const jk = topKJaccardMatrixSync(input, k);
          for (let i = 0; i < m; i++) {
            const a = data.subarray(i * n, (i + 1) * n);
            for (let j = 0; j < m; j++) {
              const b = data.subarray(j * n, (j + 1) * n);
              const at = `(${i},${j})`;
              expect(expectClose(kb[i * m + j]!, naiveKendall(a, b), 1e-12), `kendall bitset ${at}`).toBe(true);
              expect(expectClose(kf[i * m + j]!, naiveKendall(a, b), 1e-12), `kendall fenwick ${at}`).toBe(true);
              expect(expectClose(wt[i * m + j]!, naiveWeightedTau(a, b), 1e-12), `weighted tau ${at}`).toBe(true);
              expect(expectClose(sp[i * m + j]!, naiveSpearman(a, b), 1e-12), `spearman ${at}`).toBe(true);
              expect(expectClose(jk[i * m + j]!, naiveTopKJaccard(a, b, k), 0), `jaccard ${at}`).toBe(true);
            }
          }
        }
      });
    }

    it('matrices are symmetric with a unit diagonal for non-constant rows', () => {
      const m = 20;
      const n = 50;
      const data = randomRankings(mulberry32(3), m, n, 0, 0);
      for (const M of [kendallTauMatrixSync({ data, rows: m, cols: n }), weightedTauMatrixSync({ data, rows: m, cols: n })]) {
        for (let i = 0; i < m; i++) {
          expect(M[i * m + i]).toBeCloseTo(1, 14);
          for (let j = 0; j < m; j++) expect(M[i * m + j]).toBe(M[j * m + i]);
        }
      }
    });

    it('picks the bitset algorithm for importance-sized inputs and Fenwick for very wide ones', () => {
      expect(kendallAlgorithmFor(200, 300)).toBe('bitset');
      expect(kendallAlgorithmFor(50, 50_000)).toBe('fenwick');
    });
  });
});

describe('bad input gets typed errors', () => {
  const ok = new Float64Array([1, 2, 3, 4, 5, 6]);
  it('wrong lengths', () => {
    expect(() => kendallTauMatrixSync({ data: ok, rows: 4, cols: 2 })).toThrow(ShapeError);
    expect(() => kendallTau([1, 2, 3], [1, 2])).toThrow(ShapeError);
    expect(() =>
      kendallTauMatrixSync([
        [1, 2, 3],
        [1, 2],
      ]),
    ).toThrow(ShapeError);
  });
  it('fewer than 2 rankings or features', () => {
    const e1 = (() => {
      try {
        kendallTauMatrixSync({ data: ok, rows: 1, cols: 6 });
      } catch (e) {
        return e;
      }
    })();
    expect(e1).toBeInstanceOf(ShapeError);
    expect((e1 as TftError).code).toBe('ERR_SHAPE');
    expect((e1 as TftError).message).toMatch(/rankings/);
    expect(() => spearmanMatrixSync({ data: ok, rows: 6, cols: 1 })).toThrow(ShapeError);
  });
  it('k out of range', () => {
    expect(() => topKJaccardMatrixSync({ data: ok, rows: 2, cols: 3 }, 0)).toThrow(InvalidArgumentError);
    expect(() => topKJaccardMatrixSync({ data: ok, rows: 2, cols: 3 }, 4)).toThrow(InvalidArgumentError);
    expect(() => topKJaccard([1, 2], [2, 1], 1.5)).toThrow(InvalidArgumentError);
  });
  it('all-NaN rows and infinities', async () => {
    const nanRow = new Float64Array([1, 2, 3, Number.NaN, Number.NaN, Number.NaN]);
    expect(() => kendallTauMatrixSync({ data: nanRow, rows: 2, cols: 3 })).toThrow(NonFiniteError);
    await expect(kendallTauMatrix({ data: nanRow, rows: 2, cols: 3 })).rejects.toBeInstanceOf(NonFiniteError);
    const inf = new Float64Array([1, 2, 3, 4, Number.POSITIVE_INFINITY, 6]);
    expect(() => weightedTauMatrixSync({ data: inf, rows: 2, cols: 3 })).toThrow(/infinite/);
  });
  it('wrong dtype and unknown device', () => {
    expect(() => kendallTauMatrixSync({ data: new Int32Array(6) as unknown as Float64Array, rows: 2, cols: 3 })).toThrow(DTypeError);
    expect(() => kendallTauMatrixSync({ data: ok, rows: 2, cols: 3 }, { device: 'tpu' as 'cpu' })).toThrow(InvalidArgumentError);
  });
  it('CUDA requested where no GPU can run it', () => {
    if (capabilities().cudaKernelDevices > 0) return; // covered by the C++ CUDA test on GPU machines
    expect(() => kendallTauMatrixSync({ data: ok, rows: 2, cols: 3 }, { device: 'cuda' })).toThrow(CudaUnavailableError);
  });
});

describe('async matrices run off the JS thread', () => {
  it('a timer keeps firing while a large Kendall matrix is computed', async () => {
    const m = 1200;
    const n = 1000;
    const data = randomRankings(mulberry32(11), m, n, 0, 0);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const result = await kendallTauMatrix({ data, rows: m, cols: n });
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    expect(result.length).toBe(m * m);
    // The loop stayed responsive: at least a third of the possible 5 ms ticks fired during the job.
    expect(elapsed).toBeGreaterThan(50);
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 5 / 3));
  });
});

describe('rboMatrix', () => {
  // The native all-pairs RBO against the TypeScript evaluation of eq. 32 on the same lists (each row's
  // present features by decreasing value, ties to the lower index), with ties and absent features.
  const listOf = (row: Float64Array): string[] =>
    [...row.keys()]
      .filter((c) => !Number.isNaN(row[c]!))
      .sort((a, b) => row[b]! - row[a]! || a - b)
      .map((c) => `f${String(c).padStart(4, '0')}`);
  it.each([
    [12, 40, 0, 0],
    [9, 70, 4, 0.2],
    [6, 300, 0, 0.05],
  ])('equals the definition (m=%i, n=%i, levels=%i, absent=%f)', async (m, n, levels, nanP) => {
    const data = randomRankings(mulberry32(m * 31 + n), m, n, levels, nanP);
    for (const p of [0.5, 0.95]) {
      const M = await rboMatrix({ data, rows: m, cols: n }, p);
      for (let a = 0; a < m; a++) {
        expect(M[a * m + a]).toBe(1);
        for (let b = a + 1; b < m; b++) {
          const ref = rankBiasedOverlap(listOf(data.subarray(a * n, (a + 1) * n)), listOf(data.subarray(b * n, (b + 1) * n)), p);
          expect(Math.abs(M[a * m + b]! - ref)).toBeLessThan(1e-12);
          expect(M[b * m + a]).toBe(M[a * m + b]);
        }
      }
    }
  });
  it('refuses p outside (0, 1) with a typed error', async () => {
    const data = new Float64Array([1, 2, 3, 3, 2, 1]);
    for (const p of [0, 1, -0.5, Number.NaN])
      await expect(rboMatrix({ data, rows: 2, cols: 3 }, p)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('native shape checks', () => {
  it('refuse sizes whose product overflows 64 bits, straight at the addon (no façade check in front)', async () => {
    const { loadAddon } = await import('../lib/native/loader.js');
    const addon = loadAddon();
    // 2^32 x 2^32 wraps to 0 in 64-bit arithmetic: an unguarded check would accept an empty buffer.
    expect(() => addon.rankMatrixSync(new Float64Array(0), 2 ** 32, 2 ** 32, 'kendall', undefined, 'cpu')).toThrow(ShapeError);
    expect(() => addon.rboMatrix(new Float64Array(0), 2 ** 32, 2 ** 32, 0.9)).toThrow(ShapeError); // argument errors throw before the job
    expect(() => addon.rankMatrixSync(new Float64Array(4), -2, -2, 'kendall', undefined, 'cpu')).toThrow(ShapeError);
  });
});

describe('momentumStability (bundled Dow 30)', () => {
  it('lag means are the mean Kendall tau of rankings that many steps apart; each year averages its lag-1 pairs', async () => {
    const step = 63;
    const r = await momentumStability({ lookback: 126, skip: 0, step });
    expect([r.lookback, r.skip, r.step]).toEqual([126, 0, step]);
    // the same rankings rebuilt from the panel: trailing 126-day returns every `step` days
    const store = await MarketDataStore.bundled();
    const panel = await store.panel();
    await store.close();
    const D = panel.dates.length;
    const rows: number[][] = [];
    for (let t = 126; t < D; t += step) rows.push(panel.symbols.map((_, s) => panel.close[s * D + t]! / panel.close[s * D + t - 126]! - 1));
    expect(r.symbols).toEqual(panel.symbols);
    expect(r.dates).toEqual(rows.map((_, i) => panel.dates[126 + i * step]));
    for (const l of r.byLag) {
      const taus = rows
        .slice(l.lag)
        .map((row, i) => kendallTau(rows[i]!, row))
        .filter(Number.isFinite);
      expect(l.days).toBe(l.lag * step);
      expect(l.pairs).toBe(taus.length);
      expect(l.kendall).toBeCloseTo(taus.reduce((a, b) => a + b, 0) / taus.length, 12);
      for (const v of [l.spearman, l.weightedTau]) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    }
    expect(r.byLag.map((l) => l.lag)).toEqual([1, 2, 3, 6, 12, 24].filter((lag) => lag < rows.length));
    expect(r.byYear.reduce((a, y) => a + y.rankings, 0)).toBe(r.byLag[0]!.pairs);
    expect(r.seconds).toBeGreaterThanOrEqual(0);
  });

  it('defaults to 12-1 momentum re-ranked monthly; bad options are typed errors', async () => {
    expect(MOMENTUM_DEFAULTS).toEqual({ lookback: 252, skip: 21, step: 21 });
    await expect(momentumStability({ lookback: 21, skip: 21 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(momentumStability({ step: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(momentumStability({ lookback: 1e6 })).rejects.toThrow(/need at least 2 symbols and 2 rebalance dates/);
  });
});
