/**
 * The selector's native statistics against pandas and scikit-learn (golden fixtures from
 * reference/fixtures/make_selection_fixtures.py): pairwise-complete Pearson, Spearman with ties, and the
 * KSG mutual information to 1e-9, with and without the tie-breaking jitter.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { DTypeError, InvalidArgumentError, ShapeError, mutualInfoRegression, pairwiseCorrelation } from '../../lib/index.js';

interface CorrCase {
  name: string;
  rows: number;
  cols: number;
  method: 'pearson' | 'spearman';
  minPeriods: number;
  values: (number | null)[];
  r: (number | null)[];
  mean: number[];
  variance: number[];
  finite: number[];
}
interface MiCase {
  name: string;
  rows: number;
  cols: number;
  nNeighbors: number;
  values: number[];
  y: number[];
  jitter_off: number[];
  sklearn: number[];
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/selection/selection_fixtures.json', import.meta.url), 'utf8')) as {
  correlation: CorrCase[];
  mutualInfo: MiCase[];
};
const f64 = (v: (number | null)[]) => Float64Array.from(v, (x) => (x === null ? Number.NaN : x));

describe('pairwiseCorrelation equals pandas DataFrame.corr', () => {
  for (const c of fx.correlation) {
    it(c.name, async () => {
      const data = f64(c.values);
      const res = await pairwiseCorrelation({ data, rows: c.rows, cols: c.cols }, { method: c.method, minPeriods: c.minPeriods });
      for (let i = 0; i < c.cols * c.cols; i++) {
        const want = c.r[i]!;
        if (want === null) expect(res.r[i], `r[${i}]`).toBeNaN();
        else expect(Math.abs(res.r[i]! - want), `r[${i}]`).toBeLessThan(1e-12);
      }
      for (let j = 0; j < c.cols; j++) {
        expect(res.finite[j]).toBe(c.finite[j]);
        expect(res.mean[j]).toBeCloseTo(c.mean[j]!, 10);
        expect(Math.abs(res.variance[j]! - c.variance[j]!) / c.variance[j]!).toBeLessThan(1e-12);
      }
    });
  }

  it('reads float32 input and rejects bad shapes and options with typed errors', async () => {
    const c = fx.correlation[0]!;
    const res = await pairwiseCorrelation({ data: Float32Array.from(f64(c.values)), rows: c.rows, cols: c.cols });
    expect(Math.abs(res.r[1]! - c.r[1]!)).toBeLessThan(1e-6);
    await expect(pairwiseCorrelation({ data: new Float64Array(5), rows: 2, cols: 3 })).rejects.toBeInstanceOf(ShapeError);
    await expect(pairwiseCorrelation({ data: new Float64Array(6), rows: 2, cols: 3 }, { minPeriods: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(pairwiseCorrelation({ data: new Int32Array(6) as unknown as Float64Array, rows: 2, cols: 3 })).rejects.toBeInstanceOf(
      DTypeError,
    );
  });
});

describe('mutualInfoRegression equals scikit-learn mutual_info_regression', () => {
  for (const c of fx.mutualInfo) {
    it(`${c.name}: jitter off equals sklearn's estimator on its scaled data to 1e-9`, async () => {
      const mi = await mutualInfoRegression({ data: Float64Array.from(c.values), rows: c.rows, cols: c.cols }, c.y, {
        nNeighbors: c.nNeighbors,
        jitter: false,
      });
      c.jitter_off.forEach((want, j) => expect(Math.abs(mi[j]! - want), `column ${j}`).toBeLessThan(1e-9));
    });
    it(`${c.name}: with jitter (the default) it equals sklearn's public function on tie-free data`, async () => {
      const mi = await mutualInfoRegression({ data: Float64Array.from(c.values), rows: c.rows, cols: c.cols }, c.y, {
        nNeighbors: c.nNeighbors,
      });
      c.sklearn.forEach((want, j) => expect(Math.abs(mi[j]! - want), `column ${j}`).toBeLessThan(1e-9));
    });
  }

  it('drops non-finite rows per column, is seeded, and validates its inputs', async () => {
    const c = fx.mutualInfo[0]!;
    const data = Float64Array.from(c.values);
    const cut = Float64Array.from(c.values.slice(0, 1000 * c.cols));
    const withGap = Float64Array.from(c.values);
    for (let r = 1000; r < c.rows; r++) withGap[r * c.cols + 1] = Number.NaN;
    const a = await mutualInfoRegression({ data: withGap, rows: c.rows, cols: c.cols }, c.y, { jitter: false });
    const b = await mutualInfoRegression({ data: cut, rows: 1000, cols: c.cols }, c.y.slice(0, 1000), { jitter: false });
    expect(a[1]).toBe(b[1]);
    const s1 = await mutualInfoRegression({ data, rows: c.rows, cols: c.cols }, c.y, { seed: 7 });
    const s2 = await mutualInfoRegression({ data, rows: c.rows, cols: c.cols }, c.y, { seed: 7 });
    expect(Array.from(s1)).toEqual(Array.from(s2));
    await expect(mutualInfoRegression({ data, rows: c.rows, cols: c.cols }, c.y.slice(1))).rejects.toBeInstanceOf(ShapeError);
    await expect(mutualInfoRegression({ data, rows: c.rows, cols: c.cols }, c.y, { nNeighbors: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});
