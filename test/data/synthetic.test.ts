/** The seeded PRNG and its helpers, and the synthetic generator: determinism, shapes, and that its truth is really there. */
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { Xoshiro128, mixSeed, sampleDistinct } from '../../lib/random/index.js';
import { buildTargets } from '../../lib/data/targets.js';
import { syntheticDataset } from '../../lib/data/synthetic.js';

const opts = { seed: 42, symbols: 6, days: 1500, informative: 4, noise: 8, duplicates: 3, nanRate: 0.05, signalStrength: 0.3 };

function bytes(a: Float32Array | Float64Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('Xoshiro128', () => {
  it('is deterministic, uniform in (0, 1) and normal with mean 0, variance 1', () => {
    const a = new Xoshiro128(7);
    const b = new Xoshiro128(7);
    const xs = Array.from({ length: 20000 }, () => a.normal());
    expect(Array.from({ length: 20000 }, () => b.normal())).toEqual(xs);
    const m = xs.reduce((p, q) => p + q, 0) / xs.length;
    const v = xs.reduce((p, q) => p + (q - m) ** 2, 0) / xs.length;
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.04);
    const u = new Xoshiro128(8);
    for (let i = 0; i < 1000; i++) {
      const x = u.uniform();
      expect(x > 0 && x < 1).toBe(true);
    }
    expect(new Xoshiro128(1).nextUint32()).not.toBe(new Xoshiro128(2).nextUint32());
    expect(() => new Xoshiro128(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('seed mixing and sampling', () => {
  it('mixSeed is a deterministic, order-sensitive 32-bit hash with no collisions among nearby parts', () => {
    expect(mixSeed(1, 2)).toBe(mixSeed(1, 2));
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    const seen = new Set<number>();
    for (let a = 0; a < 30; a++) for (let b = 0; b < 30; b++) for (let c = 0; c < 4; c++) seen.add(mixSeed(a, b, c));
    expect(seen.size).toBe(30 * 30 * 4);
    for (const v of seen) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
    // the high word of a part counts: seeds 2^32 apart differ
    expect(mixSeed(5)).not.toBe(mixSeed(5 + 2 ** 32));
    expect(mixSeed(-1)).not.toBe(mixSeed(2 ** 32 - 1));
    expect(() => mixSeed(1.5)).toThrow(InvalidArgumentError);
  });

  it('below(n) is uniform on [0, n); sampleDistinct draws distinct sorted indices, every one equally often', () => {
    const rng = new Xoshiro128(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70000; i++) counts[rng.below(7)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400); // ~4 sd
    expect(() => rng.below(0)).toThrow(InvalidArgumentError);
    const hits = new Array(20).fill(0);
    for (let k = 0; k < 5000; k++) {
      const s = sampleDistinct(20, 5, rng);
      expect(s).toHaveLength(5);
      expect(new Set(s).size).toBe(5);
      expect(s).toEqual([...s].sort((a, b) => a - b));
      for (const i of s) hits[i]++;
    }
    for (const h of hits) expect(Math.abs(h - 1250)).toBeLessThan(140); // ~4 sd
    expect(sampleDistinct(4, 4, rng)).toEqual([0, 1, 2, 3]);
    expect(sampleDistinct(3_000_000_000, 3, new Xoshiro128(1)).every((i) => i < 3_000_000_000)).toBe(true);
    expect(() => sampleDistinct(3, 4, rng)).toThrow(InvalidArgumentError);
  });
});

describe('syntheticDataset', () => {
  const a = syntheticDataset(opts);

  it('the same seed gives bit-identical output; another seed does not', () => {
    const b = syntheticDataset(opts);
    expect(bytes(b.panel.close).equals(bytes(a.panel.close))).toBe(true);
    expect(bytes(b.features.values).equals(bytes(a.features.values))).toBe(true);
    expect(b.truth).toEqual(a.truth);
    expect(b.features.names).toEqual(a.features.names);
    const c = syntheticDataset({ ...opts, seed: 43 });
    expect(bytes(c.panel.close).equals(bytes(a.panel.close))).toBe(false);
  });

  it('has the requested shape, roles and NaN rate', () => {
    const { panel, features, truth } = a;
    const F = 4 + 8 + 3;
    expect(features.names.length).toBe(F);
    expect(panel.close.length).toBe(6 * 1500);
    expect(features.values.length).toBe(6 * 1500 * F);
    expect(truth.informative.length).toBe(4);
    expect(truth.noise.length).toBe(8);
    expect(Object.keys(truth.duplicates).length).toBe(3);
    expect(new Set([...truth.informative, ...truth.noise, ...Object.keys(truth.duplicates)]).size).toBe(F);
    for (const orig of Object.values(truth.duplicates)) expect(truth.informative).toContain(orig);
    // Names do not give roles away: informative features are not simply the first columns.
    expect(truth.informative.map((n) => features.names.indexOf(n))).not.toEqual([0, 1, 2, 3]);
    const sumSq = Object.values(truth.coefficients).reduce((p, q) => p + q * q, 0);
    expect(Math.sqrt(sumSq)).toBeCloseTo(0.3, 12);
    let nan = 0;
    for (const v of features.values) if (Number.isNaN(v)) nan++;
    expect(nan / features.values.length).toBeGreaterThan(0.03);
    expect(nan / features.values.length).toBeLessThan(0.07);
    expect(panel.close.every((p) => p > 0)).toBe(true);
    expect(features.lookbacks.every((l) => l === 0)).toBe(true);
  });

  it('next-day returns load on the informative features with the true coefficients, not on noise', () => {
    const { panel, features, truth } = a;
    const tg = buildTargets(panel);
    const F = features.names.length;
    const D = panel.dates.length;
    // Univariate regression slope of r(t+1)/σ_d on each feature (factors are independent, unit variance).
    const slope = (name: string): number => {
      const f = features.names.indexOf(name);
      let sxy = 0;
      let sxx = 0;
      for (let s = 0; s < panel.symbols.length; s++) {
        for (let t = 0; t < D - 1; t++) {
          const x = features.values[(s * D + t) * F + f]!;
          const y = tg.nextDayReturn[s * D + t]! / truth.dailyVol;
          if (Number.isNaN(x)) continue;
          sxy += x * y;
          sxx += x * x;
        }
      }
      return sxy / sxx;
    };
    for (const n of truth.informative) expect(Math.abs(slope(n) - truth.coefficients[n]!), n).toBeLessThan(0.06);
    for (const n of truth.noise) expect(Math.abs(slope(n)), n).toBeLessThan(0.06);
    const strongest = truth.informative.reduce((x, y) => (Math.abs(truth.coefficients[x]!) > Math.abs(truth.coefficients[y]!) ? x : y));
    expect(Math.abs(slope(strongest))).toBeGreaterThan(0.1);
    // A near-duplicate tracks its original closely.
    const [dup, orig] = Object.entries(truth.duplicates)[0]!;
    const fi = features.names.indexOf(orig);
    const fd = features.names.indexOf(dup);
    let num = 0;
    let da = 0;
    let db = 0;
    for (let i = 0; i < D; i++) {
      const x = features.values[i * F + fi]!;
      const y = features.values[i * F + fd]!;
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      num += x * y;
      da += x * x;
      db += y * y;
    }
    expect(num / Math.sqrt(da * db)).toBeGreaterThan(0.98);
  });

  it('rejects inconsistent options', () => {
    expect(() => syntheticDataset({ seed: 1, informative: 0, duplicates: 2 })).toThrow(InvalidArgumentError);
    expect(() => syntheticDataset({ seed: 1, signalStrength: 1 })).toThrow(InvalidArgumentError);
    expect(() => syntheticDataset({ seed: 1, nanRate: 1 })).toThrow(InvalidArgumentError);
    expect(() => syntheticDataset({ seed: 1, days: 1 })).toThrow(InvalidArgumentError);
  });
});
