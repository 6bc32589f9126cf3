/** The declared catalogue: sizes, required families, well-formed specs, filters. */
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, NotFoundError } from '../../lib/errors.js';
import { featureCatalogue, featureGroups, maxLookback } from '../../lib/data/feature-catalogue.js';
import { SIGMA_LOOKBACK } from '../../lib/data/feature-families.js';

describe('feature catalogue', () => {
  const all = featureCatalogue();
  const closeOnly = featureCatalogue({ ohlcv: false });

  it('has at least 150 close-only features and at least 250 with OHLCV', () => {
    expect(closeOnly.length).toBeGreaterThanOrEqual(150);
    expect(all.length).toBeGreaterThanOrEqual(250);
    expect(closeOnly.every((s) => !s.needsOhlcv)).toBe(true);
    expect(all.filter((s) => !s.needsOhlcv).length).toBe(closeOnly.length);
  });

  it('covers the families the issue asks for', () => {
    const groups = new Set(all.map((s) => s.group));
    for (const g of [
      'vol_norm_returns',
      'macd',
      'ewma_vol',
      'vol_ratio',
      'ma_zscore',
      'rsi',
      'moments',
      'drawdown',
      'trend',
      'range_vol',
      'volume',
      'gap',
    ]) {
      expect(groups.has(g), g).toBe(true);
    }
    const vnr = all.filter((s) => s.group === 'vol_norm_returns').map((s) => Number(s.name.split('_')[1]));
    expect(Math.min(...vnr)).toBe(1);
    expect(Math.max(...vnr)).toBe(252);
    expect(vnr.length).toBeGreaterThanOrEqual(10);
    expect(all.some((s) => s.name.startsWith('parkinson_'))).toBe(true);
    expect(all.some((s) => s.name.startsWith('garman_klass_'))).toBe(true);
    expect(all.some((s) => s.name.startsWith('skew_')) && all.some((s) => s.name.startsWith('kurt_'))).toBe(true);
    // The MACD pairs of Deep Momentum Networks / X-Trend.
    for (const p of ['8_24', '16_48', '32_96']) expect(all.some((s) => s.name === `macd_${p}`)).toBe(true);
  });

  it('names are unique and every spec is well formed', () => {
    expect(new Set(all.map((s) => s.name)).size).toBe(all.length);
    for (const s of all) {
      expect(s.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(Number.isInteger(s.lookback) && s.lookback >= 0, s.name).toBe(true);
      expect(s.description.length, s.name).toBeGreaterThan(10);
    }
  });

  it('lookbacks follow the declared formulas (spot checks)', () => {
    const lb = (n: string): number => all.find((s) => s.name === n)!.lookback;
    expect(SIGMA_LOOKBACK).toBe(118);
    expect(lb('logret_21')).toBe(21);
    expect(lb('vnr_1')).toBe(118); // σ_t dominates
    expect(lb('vnr_252')).toBe(252);
    expect(lb('rvol_21')).toBe(21); // 21 returns read 22 closes
    expect(lb('zma_20')).toBe(19); // 20 closes
    expect(lb('acf1_63')).toBe(64);
    expect(lb('clv')).toBe(0);
    expect(lb('gap_raw')).toBe(1);
    expect(lb('macd_32_96')).toBe(373 + 251);
    expect(maxLookback(all)).toBe(624);
    expect(maxLookback([])).toBe(0);
  });

  it('filters by groups and names; unknown ones are NotFoundError', () => {
    const rsi = featureCatalogue({ groups: ['rsi'] });
    expect(rsi.length).toBeGreaterThan(3);
    expect(rsi.every((s) => s.group === 'rsi')).toBe(true);
    expect(featureCatalogue({ names: ['rsi_14', 'vnr_1'] }).map((s) => s.name)).toEqual(['vnr_1', 'rsi_14']);
    // 'gap' is all OHLCV: nothing is left of it close-only, and an empty selection is an error.
    expect(() => featureCatalogue({ groups: ['gap'], ohlcv: false })).toThrow(InvalidArgumentError);
    expect(() => featureCatalogue({ groups: ['nope'] })).toThrow(NotFoundError);
    expect(() => featureCatalogue({ names: ['nope'] })).toThrow(NotFoundError);
    expect(() => featureCatalogue({ names: ['gap'], ohlcv: false })).toThrow(InvalidArgumentError);
    expect(featureGroups({ ohlcv: false })).not.toContain('range_vol');
    // Returned specs are copies: mutating one does not change the catalogue.
    rsi[0]!.lookback = -1;
    expect(featureCatalogue({ groups: ['rsi'] })[0]!.lookback).toBeGreaterThan(0);
  });
});
