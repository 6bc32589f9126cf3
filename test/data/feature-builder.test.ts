/**
 * FeatureBuilder: every feature against the naive reference, causality (perturbing the future never
 * changes the past), exactness of each declared lookback, and the builder's options and errors.
 */
import { describe, expect, it } from 'vitest';

import { DataError, InvalidArgumentError, NotFoundError, OutOfRangeError } from '../../lib/errors.js';
import { FeatureBuilder, featureWindow, type FeaturePanel } from '../../lib/data/feature-builder.js';
import { featureCatalogue } from '../../lib/data/feature-catalogue.js';
import type { PricePanel } from '../../lib/data/price-panel.js';
import { Xoshiro128 } from '../../lib/random/prng.js';
import { clonePanel, randomPanel, removeBar, scaleBar, widenBar } from './helpers.js';
import { Reference } from './reference-features.js';

const D = 700;
const GAP: [number, number] = [300, 310];
const LATE = 40;
const panel = randomPanel({ symbols: 3, days: D, seed: 11, gap: GAP, lateStart: LATE, flatEvery: 9 });
const builder = new FeatureBuilder({ ohlcv: true });
const built = builder.build(panel, { allowShortHistory: true });
const F = built.names.length;

function at(fp: FeaturePanel, s: number, t: number, f: number): number {
  return fp.values[(s * fp.dates.length + t) * fp.names.length + f]!;
}

function onlySymbol(p: PricePanel, s: number): PricePanel {
  const n = p.dates.length;
  const v = (a: Float64Array | undefined): Float64Array | undefined => a?.slice(s * n, (s + 1) * n);
  const out: PricePanel = {
    symbols: [p.symbols[s]!],
    dates: p.dates.slice(),
    close: v(p.close)!,
    listed: p.listed.slice(s * n, (s + 1) * n),
    filled: p.filled.slice(s * n, (s + 1) * n),
    hasOhlcv: p.hasOhlcv,
  };
  if (p.open) out.open = v(p.open)!;
  if (p.high) out.high = v(p.high)!;
  if (p.low) out.low = v(p.low)!;
  if (p.volume) out.volume = v(p.volume)!;
  return out;
}

function bars(p: PricePanel, s: number): ConstructorParameters<typeof Reference>[0] {
  const v = (a: Float64Array | undefined): Float64Array | undefined => a?.subarray(s * p.dates.length, (s + 1) * p.dates.length);
  return { c: v(p.close)!, o: v(p.open), h: v(p.high), l: v(p.low), v: v(p.volume) };
}

describe('FeatureBuilder against the naive reference', () => {
  it('builds the whole catalogue with OHLCV data, in catalogue order', () => {
    expect(built.names).toEqual(featureCatalogue().map((s) => s.name));
    expect(Array.from(built.lookbacks)).toEqual(featureCatalogue().map((s) => s.lookback));
    expect(built.values.length).toBe(3 * D * F);
    expect(built.maxLookback).toBe(Math.max(...built.lookbacks));
  });

  it('every feature of every family matches an independent direct computation', () => {
    const refs = [0, 1, 2].map((s) => new Reference(bars(panel, s)));
    const rng = new Xoshiro128(5);
    const families = new Set<string>();
    let compared = 0;
    let finite = 0;
    for (let f = 0; f < F; f++) {
      const L = built.lookbacks[f]!;
      const days: [number, number][] = [];
      for (const t of [L - 1, L, L + 1, D - 1]) if (t >= 0 && t < D) days.push([0, t]);
      for (let k = 0; k < 4; k++) days.push([0, L + Math.floor(rng.uniform() * (D - L))]);
      for (const t of [GAP[1] + L - 1, GAP[1] + L, GAP[0], GAP[0] - 1]) if (t < D) days.push([1, t]);
      for (const t of [LATE + L - 1, LATE + L]) if (t < D) days.push([2, t]);
      for (const [s, t] of days) {
        const expected = refs[s]!.value(built.names[f]!, t);
        const got = at(built, s, t, f);
        const where = `${built.names[f]} symbol ${s} day ${t}: got ${got}, expected ${expected}`;
        if (Number.isNaN(expected) || !Number.isFinite(expected)) {
          expect(got, where).toBeNaN();
        } else {
          expect(Math.abs(got - expected), where).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(expected)));
          finite++;
        }
        compared++;
      }
      families.add(built.groups[f]!);
    }
    expect(families.size).toBe(new Set(featureCatalogue().map((s) => s.group)).size);
    expect(compared).toBeGreaterThan(3000);
    expect(finite).toBeGreaterThan(2000);
  });

  it('flat (filled) bars give the documented neutral values, not noise', () => {
    const names = built.names;
    const t = 9 * 70; // symbol 0 has a flat bar every 9th day
    expect(panel.filled[t]).toBe(1);
    expect(at(built, 0, t, names.indexOf('clv'))).toBe(0);
    expect(at(built, 0, t, names.indexOf('body'))).toBe(0);
    expect(at(built, 0, t, names.indexOf('upper_shadow'))).toBe(0);
    expect(at(built, 0, t, names.indexOf('logret_1'))).toBe(0);
  });
});

describe('causality', () => {
  it('changing any price after t never changes a feature at or before t (bit for bit)', () => {
    const rng = new Xoshiro128(99);
    for (let trial = 0; trial < 24; trial++) {
      const s = trial % 3;
      const t = trial < 3 ? trial * 5 : 5 + Math.floor(rng.uniform() * (D - 15));
      const p = clonePanel(panel);
      // Perturb a random set of later bars (of this symbol and, to be sure, of the others too): rescale
      // them, reshape them, or remove them (a gap).
      for (let k = 0; k < 20; k++) {
        const u = t + 1 + Math.floor(rng.uniform() * (D - t - 1));
        const sym = Math.floor(rng.uniform() * 3);
        const kind = rng.uniform();
        if (kind < 0.6) scaleBar(p, sym, u, 0.5 + rng.uniform());
        else if (kind < 0.8) widenBar(p, sym, u);
        else removeBar(p, sym, u);
      }
      scaleBar(p, s, t + 1, 1.7);
      widenBar(p, s, t + 1);
      const after = builder.build(p, { allowShortHistory: true });
      for (let sym = 0; sym < 3; sym++) {
        const a = built.values.subarray(sym * D * F, (sym * D + t + 1) * F);
        const b = after.values.subarray(sym * D * F, (sym * D + t + 1) * F);
        // Byte equality: NaN == NaN and +0 != -0, i.e. identical bits.
        expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength)), `trial ${trial}, t = ${t}, symbol ${sym}`).toBe(true);
      }
      // The perturbation did reach the features after t (those defined there).
      let changed = 0;
      let defined = 0;
      for (let f = 0; f < F; f++) {
        if (Number.isFinite(at(built, s, t + 1, f))) defined++;
        if (!Object.is(at(after, s, t + 1, f), at(built, s, t + 1, f))) changed++;
      }
      expect(changed).toBeGreaterThanOrEqual(defined / 2);
    }
  });
});

describe('declared lookbacks are exact', () => {
  // Symbol 0 is fully listed from day 0: a feature with lookback L is NaN at L - 1 and defined at L.
  it('each feature is NaN until lookback + 1 bars exist and defined from then on', () => {
    for (let f = 0; f < F; f++) {
      const L = built.lookbacks[f]!;
      if (L > 0) expect(at(built, 0, L - 1, f), `${built.names[f]} at ${L - 1}`).toBeNaN();
      expect(Number.isFinite(at(built, 0, L, f)), `${built.names[f]} at ${L}`).toBe(true);
      // The same after a late listing.
      if (LATE + L < D) {
        if (L > 0) expect(at(built, 2, LATE + L - 1, f), `${built.names[f]} late listing`).toBeNaN();
        expect(Number.isFinite(at(built, 2, LATE + L, f)), `${built.names[f]} late listing at ${LATE + L}`).toBe(true);
      }
    }
  });

  it('a bar older than t - lookback never changes the value at t; the bar at t - lookback does', () => {
    const rng = new Xoshiro128(3);
    // Symbol 0 alone (fully listed, with flat days), to keep the many rebuilds cheap.
    const one = onlySymbol(panel, 0);
    const base = builder.build(one);
    const lookbacks = [...new Set(built.lookbacks)].sort((a, b) => a - b);
    const moved = new Uint8Array(F);
    for (const L of lookbacks) {
      const feats = [...built.lookbacks.keys()].filter((f) => built.lookbacks[f] === L);
      for (let k = 0; k < 2; k++) {
        const t = Math.min(D - 1, L + 1 + Math.floor(rng.uniform() * Math.min(40, D - L - 1)));
        // Scaling a whole bar moves its level; widening it changes its shape (what range features read).
        const perturbations: ((p: PricePanel, u: number) => void)[] = [
          (p, u) => scaleBar(p, 0, u, 3),
          (p, u) => scaleBar(p, 0, u, 1 / 3),
          (p, u) => widenBar(p, 0, u),
        ];
        for (const perturb of perturbations) {
          // Older bar: t - L - 1 (only when it exists).
          if (t - L - 1 >= 0) {
            const p = clonePanel(one);
            perturb(p, t - L - 1);
            const fp = builder.build(p);
            for (const f of feats) expect(Object.is(at(fp, 0, t, f), at(base, 0, t, f)), `${built.names[f]} reads bar t - ${L + 1}`).toBe(true);
          }
          const p = clonePanel(one);
          perturb(p, t - L);
          const fp = builder.build(p);
          for (const f of feats) if (!Object.is(at(fp, 0, t, f), at(base, 0, t, f))) moved[f] = 1;
        }
      }
    }
    const never = built.names.filter((_, f) => !moved[f]);
    expect(never, 'features whose declared oldest bar never influenced them').toEqual([]);
  });
});

describe('builder options', () => {
  const close = randomPanel({ symbols: 2, days: 700, seed: 2 });
  const closeOnly: PricePanel = { ...close, hasOhlcv: false };
  delete closeOnly.open;
  delete closeOnly.high;
  delete closeOnly.low;
  delete closeOnly.volume;

  it("'auto' uses OHLCV families only when the panel has them", () => {
    const b = new FeatureBuilder();
    expect(b.build(closeOnly).names).toEqual(featureCatalogue({ ohlcv: false }).map((s) => s.name));
    expect(b.build(close).names.length).toBe(featureCatalogue().length);
  });

  it('groups and names select subsets in catalogue order', () => {
    const fp = new FeatureBuilder({ groups: ['rsi', 'macd'] }).build(closeOnly);
    expect(new Set(fp.groups)).toEqual(new Set(['rsi', 'macd']));
    expect(fp.names).toEqual(featureCatalogue({ groups: ['rsi', 'macd'] }).map((s) => s.name));
    const one = new FeatureBuilder({ names: ['rsi_14', 'vnr_21'] }).build(closeOnly);
    expect(one.names).toEqual(['vnr_21', 'rsi_14']);
    // The subset's values are those of the full build.
    const full = new FeatureBuilder().build(closeOnly);
    const fi = full.names.indexOf('rsi_14');
    for (let t = 0; t < 700; t += 37) expect(Object.is(one.values[t * 2 + 1], full.values[t * full.names.length + fi])).toBe(true);
  });

  it('asking for OHLCV features from a close-only panel is a DataError', () => {
    expect(() => new FeatureBuilder({ ohlcv: true }).build(closeOnly)).toThrow(DataError);
    expect(() => new FeatureBuilder({ groups: ['range_vol'] }).build(closeOnly)).toThrow(/open\/high\/low\/volume/);
  });

  it('unknown groups or names fail at construction', () => {
    expect(() => new FeatureBuilder({ groups: ['nope'] })).toThrow(NotFoundError);
    expect(() => new FeatureBuilder({ names: ['vnr_999'] })).toThrow(NotFoundError);
    expect(() => new FeatureBuilder({ names: ['gap'], ohlcv: false })).toThrow(InvalidArgumentError);
  });

  it('a symbol with too little history is a DataError naming it, unless allowed', () => {
    const short = randomPanel({ symbols: 3, days: 700, seed: 4, lateStart: 200 });
    const err = (() => {
      try {
        new FeatureBuilder({ ohlcv: false }).build({ ...short, sources: ['prices.csv'] });
      } catch (e) {
        return e as DataError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe('ERR_DATA');
    expect(err.message).toContain("symbol 'S2'");
    expect(err.message).toContain('prices.csv');
    expect(err.message).toContain("column 'symbol'");
    expect(err.message).toMatch(/500.*625/);
    // Shorter features fit, and allowShortHistory builds with NaN.
    expect(() => new FeatureBuilder({ groups: ['rsi'] }).build(short)).not.toThrow();
    const fp = new FeatureBuilder({ ohlcv: false }).build(short, { allowShortHistory: true });
    expect(fp.values.length).toBe(3 * 700 * fp.names.length);
  });

  it('buildSymbols yields chunks identical to build', () => {
    const all = new FeatureBuilder().build(panel, { allowShortHistory: true });
    const chunks = [...new FeatureBuilder().buildSymbols(panel, { chunkSize: 2, allowShortHistory: true })];
    expect(chunks.map((c) => c.symbols)).toEqual([['S0', 'S1'], ['S2']]);
    const joined = new Float32Array(all.values.length);
    let off = 0;
    for (const c of chunks) {
      joined.set(c.values, off);
      off += c.values.length;
    }
    expect(Buffer.from(joined.buffer).equals(Buffer.from(all.values.buffer))).toBe(true);
  });

  it('featureWindow is a view over [symbol, days) without copying', () => {
    const w = featureWindow(built, 1, 100, 130);
    expect(w.length).toBe(30 * F);
    expect(w.buffer).toBe(built.values.buffer);
    expect(w[5 * F + 7]).toBe(at(built, 1, 105, 7));
    expect(() => featureWindow(built, 3, 0, 1)).toThrow(OutOfRangeError);
    expect(() => featureWindow(built, 0, 10, D + 1)).toThrow(OutOfRangeError);
  });
});
