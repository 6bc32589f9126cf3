/** Shared fixtures for the data-layer tests: small OHLCV panels and temp files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PricePanel } from '../../lib/data/price-panel.js';
import { Xoshiro128 } from '../../lib/random/prng.js';

export interface PanelShape {
  symbols: number;
  days: number;
  seed: number;
  /** Symbol 1 unlisted (NaN) over these days: a gap beyond any fill limit. */
  gap?: [number, number];
  /** Symbol 2 listed from this day on (a late listing). */
  lateStart?: number;
  /** Every k-th day of symbol 0 is a filled, flat day (no trade). */
  flatEvery?: number;
}

/** Random-walk OHLCV bars with consistent open/high/low, plus the irregularities a real panel has. */
export function randomPanel(shape: PanelShape): PricePanel {
  const { symbols: S, days: D, seed } = shape;
  const rng = new Xoshiro128(seed);
  const n = S * D;
  const close = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const volume = new Float64Array(n);
  const listed = new Uint8Array(n).fill(1);
  const filled = new Uint8Array(n);
  for (let s = 0; s < S; s++) {
    let p = 20 + 80 * rng.uniform();
    for (let t = 0; t < D; t++) {
      const i = s * D + t;
      if (s === 0 && shape.flatEvery && t > 0 && t % shape.flatEvery === 0) {
        open[i] = high[i] = low[i] = close[i] = p;
        volume[i] = 0;
        filled[i] = 1;
        continue;
      }
      const o = p * Math.exp(0.004 * rng.normal());
      p = o * Math.exp(0.015 * rng.normal());
      open[i] = o;
      close[i] = p;
      high[i] = Math.max(o, p) * (1 + 0.006 * rng.uniform());
      low[i] = Math.min(o, p) * (1 - 0.006 * rng.uniform());
      volume[i] = Math.floor(1000 + 1e6 * rng.uniform());
    }
  }
  const blank = (s: number, a: number, b: number): void => {
    for (let t = a; t < b; t++) {
      const i = s * D + t;
      close[i] = open[i] = high[i] = low[i] = volume[i] = Number.NaN;
      listed[i] = 0;
      filled[i] = 0;
    }
  };
  if (shape.gap && S > 1) blank(1, shape.gap[0], shape.gap[1]);
  if (shape.lateStart && S > 2) blank(2, 0, shape.lateStart);
  const dates: string[] = [];
  for (let t = 0; t < D; t++) dates.push(new Date(Date.UTC(2001, 0, 1) + t * 86_400_000).toISOString().slice(0, 10));
  return {
    symbols: Array.from({ length: S }, (_, s) => `S${s}`),
    dates,
    close,
    open,
    high,
    low,
    volume,
    listed,
    filled,
    hasOhlcv: true,
  };
}

/** A copy of a panel, every array duplicated. */
export function clonePanel(p: PricePanel): PricePanel {
  const c: PricePanel = {
    ...p,
    symbols: p.symbols.slice(),
    dates: p.dates.slice(),
    close: p.close.slice(),
    listed: p.listed.slice(),
    filled: p.filled.slice(),
  };
  if (p.open) c.open = p.open.slice();
  if (p.high) c.high = p.high.slice();
  if (p.low) c.low = p.low.slice();
  if (p.volume) c.volume = p.volume.slice();
  return c;
}

/** Scales one bar (all of open, high, low, close, volume) by a factor, keeping it a valid bar. */
export function scaleBar(p: PricePanel, s: number, t: number, factor: number): void {
  const i = s * p.dates.length + t;
  p.close[i] = p.close[i]! * factor;
  if (p.open) p.open[i] = p.open[i]! * factor;
  if (p.high) p.high[i] = p.high[i]! * factor;
  if (p.low) p.low[i] = p.low[i]! * factor;
  if (p.volume) p.volume[i] = p.volume[i]! * factor + 1;
}

/** Makes one bar a missing day beyond the fill limit: every field NaN, not listed. */
export function removeBar(p: PricePanel, s: number, t: number): void {
  const i = s * p.dates.length + t;
  p.close[i] = Number.NaN;
  for (const a of [p.open, p.high, p.low, p.volume]) if (a) a[i] = Number.NaN;
  p.listed[i] = 0;
  p.filled[i] = 0;
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'tft-data-test-'));
  file(name: string, content: string): string {
    const f = join(this.path, name);
    writeFileSync(f, content);
    return f;
  }
  join(name: string): string {
    return join(this.path, name);
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Widens one bar's range (high up, low down, open and close kept): changes shape, not level. */
export function widenBar(p: PricePanel, s: number, t: number): void {
  const i = s * p.dates.length + t;
  if (p.high) p.high[i] = p.high[i]! * 1.3;
  if (p.low) p.low[i] = p.low[i]! * 0.8;
}
