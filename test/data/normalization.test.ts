/** Normalisation fitted on a training range only and applied unchanged elsewhere. */
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, OutOfRangeError, SchemaError, ShapeError } from '../../lib/errors.js';
import type { FeaturePanel } from '../../lib/data/feature-builder.js';
import { applyNormalization, fitNormalization, normalizationFromJSON, normalizationToJSON } from '../../lib/data/normalization.js';

/** 2 symbols × 10 days × 3 features with known values; feature 1 explodes after day 5, feature 2 is constant. */
function panel(): FeaturePanel {
  const S = 2;
  const D = 10;
  const F = 3;
  const values = new Float32Array(S * D * F);
  for (let s = 0; s < S; s++) {
    for (let t = 0; t < D; t++) {
      const i = (s * D + t) * F;
      values[i] = t + 10 * s;
      values[i + 1] = t < 5 ? (t % 2 === 0 ? 1 : -1) : 1000;
      values[i + 2] = 7;
    }
  }
  values[(0 * D + 2) * F] = Number.NaN;
  return {
    symbols: ['A', 'B'],
    dates: Array.from({ length: D }, (_, t) => `2020-01-${String(t + 1).padStart(2, '0')}`),
    names: ['a', 'b', 'c'],
    groups: ['g', 'g', 'g'],
    lookbacks: new Int32Array(F),
    values,
    maxLookback: 0,
  };
}

describe('normalisation', () => {
  it('fits means and stds on the training days only, ignoring NaN', () => {
    const fp = panel();
    const norm = fitNormalization(fp, { startDay: 0, endDay: 5 });
    // Feature a over days 0..4: symbol A {0,1,3,4} (day 2 NaN), symbol B {10..14}.
    const a = [0, 1, 3, 4, 10, 11, 12, 13, 14];
    const mean = a.reduce((x, y) => x + y, 0) / a.length;
    const std = Math.sqrt(a.reduce((x, y) => x + (y - mean) ** 2, 0) / (a.length - 1));
    expect(norm.means[0]).toBeCloseTo(mean, 12);
    expect(norm.stds[0]).toBeCloseTo(std, 12);
    expect(norm.counts[0]).toBe(9);
    // Feature b is ±1 in training; the 1000s after day 5 must not leak in.
    expect(norm.means[1]).toBeCloseTo(0.2, 12);
    expect(norm.stds[1]).toBeLessThan(1.1);
    // Feature c is constant: the std floor keeps it finite.
    expect(norm.stds[2]).toBe(1e-8);
    expect([norm.startDate, norm.endDate]).toEqual(['2020-01-01', '2020-01-05']);
  });

  it('applies the fitted statistics unchanged outside the training range', () => {
    const fp = panel();
    const norm = fitNormalization(fp, { startDay: 0, endDay: 5 });
    const z = applyNormalization(fp, norm);
    expect(z.values).not.toBe(fp.values);
    const at = (s: number, t: number, f: number): number => z.values[(s * 10 + t) * 3 + f]!;
    expect(at(0, 7, 1)).toBeCloseTo((1000 - norm.means[1]!) / norm.stds[1]!, 3);
    expect(at(1, 3, 0)).toBeCloseTo((13 - norm.means[0]!) / norm.stds[0]!, 5);
    expect(at(0, 2, 0)).toBeNaN();
    const clipped = applyNormalization(fp, norm, { clip: 3 });
    expect(clipped.values[(0 * 10 + 7) * 3 + 1]).toBe(3);
    const inPlace = applyNormalization(fp, norm, { inPlace: true });
    expect(inPlace.values).toBe(fp.values);
    expect(inPlace.values[(1 * 10 + 3) * 3]).toBeCloseTo(at(1, 3, 0), 6);
  });

  it('a different training range gives different statistics (the range is what is fitted)', () => {
    const fp = panel();
    expect(fitNormalization(fp, { startDay: 5, endDay: 10 }).means[1]).toBe(1000);
  });

  it('refuses mismatched names and bad ranges', () => {
    const fp = panel();
    const norm = fitNormalization(fp, { startDay: 0, endDay: 5 });
    expect(() => applyNormalization({ ...fp, names: ['a', 'c', 'b'] }, norm)).toThrow(InvalidArgumentError);
    expect(() => applyNormalization({ ...fp, names: ['a', 'b'] }, norm)).toThrow(ShapeError);
    expect(() => fitNormalization(fp, { startDay: 5, endDay: 5 })).toThrow(OutOfRangeError);
    expect(() => fitNormalization(fp, { startDay: 0, endDay: 11 })).toThrow(OutOfRangeError);
    expect(() => applyNormalization(fp, norm, { clip: 0 })).toThrow(InvalidArgumentError);
  });

  it('round-trips through JSON for the checkpoint', () => {
    const norm = fitNormalization(panel(), { startDay: 0, endDay: 5 });
    const back = normalizationFromJSON(JSON.parse(JSON.stringify(normalizationToJSON(norm))));
    expect(back).toEqual(norm);
    expect(() => normalizationFromJSON({ ...normalizationToJSON(norm), stds: [1, 0, 1] })).toThrow(SchemaError);
    expect(() => normalizationFromJSON({ ...normalizationToJSON(norm), means: [1] })).toThrow(SchemaError);
    expect(() => normalizationFromJSON(null)).toThrow(SchemaError);
  });
});
