/**
 * One symbol's bars and the intermediate series its features share (log price, returns, σ, rolling sums…),
 * each computed once per symbol and memoised by name, so 292 features cost a few hundred O(days) passes
 * instead of one pass per feature per intermediate.
 *
 * Every derived series follows the rolling.ts convention: NaN where an input it reads is NaN.
 */
import { SQRT_252 } from './annualization.js';
import {
  Scratch,
  ewmaMean,
  ewmaStd,
  rollingExtremeAge,
  rollingMax,
  rollingMin,
  rollingSum,
  spanAlpha,
  varianceOrZero,
} from './rolling.js';
import { DEFAULT_VOL_SPAN } from '../defaults.js';

/** One symbol's bars as Float64Array views of a PricePanel (NaN where not listed). */
export interface SymbolBars {
  close: Float64Array;
  open?: Float64Array | undefined;
  high?: Float64Array | undefined;
  low?: Float64Array | undefined;
  volume?: Float64Array | undefined;
}

/** The span of the ex-ante daily volatility σ_t used to normalise returns (X-Trend, Deep Momentum Networks). */
export const SIGMA_SPAN = DEFAULT_VOL_SPAN;

/** Re-exported for the feature families, which annualise with it. */
export { SQRT_252 };

type Base = (c: SeriesContext) => Float64Array;

function need(a: Float64Array | undefined, field: string): Float64Array {
  // FeatureBuilder checks hasOhlcv before any OHLCV feature runs; this guards direct misuse.
  if (!a) throw new TypeError(`series '${field}' is not available for this symbol`);
  return a;
}

/** Elementwise map of a series into a pooled array (the functions used all map NaN to NaN). */
function map1(c: SeriesContext, a: Float64Array, f: (x: number) => number): Float64Array {
  const out = c.alloc();
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]!);
  return out;
}

/** Base series that are the square of another: variance() reuses their rolling sums. */
const SQUARES: Record<string, string> = { r: 'r2', x: 'x2', rlag: 'rlag2', lv: 'lv2', dlv: 'dlv2', hl: 'hl2', co: 'co2', on: 'on2' };

const BASE: Record<string, Base> = {
  x: (c) => map1(c, c.close, Math.log),
  r: (c) => {
    const p = c.close;
    const out = c.alloc().fill(Number.NaN);
    for (let t = 1; t < c.n; t++) out[t] = p[t]! / p[t - 1]! - 1;
    return out;
  },
  r2: (c) => map1(c, c.s('r'), (v) => v * v),
  r3: (c) => map1(c, c.s('r'), (v) => v * v * v),
  r4: (c) => map1(c, c.s('r'), (v) => v * v * v * v),
  absr: (c) => map1(c, c.s('r'), Math.abs),
  // Indicator of an up day; Number(NaN > 0) would be 0, so NaN is carried explicitly.
  up: (c) => map1(c, c.s('r'), (v) => (Number.isNaN(v) ? v : v > 0 ? 1 : 0)),
  down2: (c) => map1(c, c.s('r'), (v) => (v < 0 ? v * v : Number.isNaN(v) ? v : 0)),
  rlag: (c) => {
    const r = c.s('r');
    const out = c.alloc().fill(Number.NaN);
    for (let t = 1; t < c.n; t++) out[t] = r[t - 1]!;
    return out;
  },
  rlag2: (c) => map1(c, c.s('rlag'), (v) => v * v),
  r_rlag: (c) => {
    const r = c.s('r');
    const l = c.s('rlag');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = r[t]! * l[t]!;
    return out;
  },
  dp: (c) => {
    const p = c.close;
    const out = c.alloc().fill(Number.NaN);
    for (let t = 1; t < c.n; t++) out[t] = p[t]! - p[t - 1]!;
    return out;
  },
  gain: (c) => map1(c, c.s('dp'), (v) => (v > 0 ? v : Number.isNaN(v) ? v : 0)),
  loss: (c) => map1(c, c.s('dp'), (v) => (v < 0 ? -v : Number.isNaN(v) ? v : 0)),
  x2: (c) => map1(c, c.s('x'), (v) => v * v),
  // x_j · j with the absolute bar index j: the rolling OLS trend needs Σ j·x_j.
  xj: (c) => {
    const x = c.s('x');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = x[t]! * t;
    return out;
  },
  // --- OHLCV ---
  lv: (c) => map1(c, need(c.bars.volume, 'volume'), Math.log1p),
  lv2: (c) => map1(c, c.s('lv'), (v) => v * v),
  dlv: (c) => {
    const v = need(c.bars.volume, 'volume');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = Math.log1p(c.close[t]! * v[t]!);
    return out;
  },
  dlv2: (c) => map1(c, c.s('dlv'), (v) => v * v),
  absr_lv: (c) => {
    const a = c.s('absr');
    const l = c.s('lv');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = a[t]! * l[t]!;
    return out;
  },
  sv: (c) => {
    const r = c.s('r');
    const v = need(c.bars.volume, 'volume');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = Math.sign(r[t]!) * v[t]!;
    return out;
  },
  vol: (c) => need(c.bars.volume, 'volume'),
  illiq: (c) => {
    const a = c.s('absr');
    const v = need(c.bars.volume, 'volume');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = a[t]! / (1 + c.close[t]! * v[t]!);
    return out;
  },
  high: (c) => need(c.bars.high, 'high'),
  low: (c) => need(c.bars.low, 'low'),
  hl: (c) => {
    const h = need(c.bars.high, 'high');
    const l = need(c.bars.low, 'low');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = Math.log(h[t]! / l[t]!);
    return out;
  },
  hl2: (c) => map1(c, c.s('hl'), (v) => v * v),
  co: (c) => {
    const o = need(c.bars.open, 'open');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = Math.log(c.close[t]! / o[t]!);
    return out;
  },
  co2: (c) => map1(c, c.s('co'), (v) => v * v),
  absco: (c) => map1(c, c.s('co'), Math.abs),
  on: (c) => {
    const o = need(c.bars.open, 'open');
    const out = c.alloc().fill(Number.NaN);
    for (let t = 1; t < c.n; t++) out[t] = Math.log(o[t]! / c.close[t - 1]!);
    return out;
  },
  on2: (c) => map1(c, c.s('on'), (v) => v * v),
  abson: (c) => map1(c, c.s('on'), Math.abs),
  // Rogers–Satchell daily variance: ln(H/C)·ln(H/O) + ln(L/C)·ln(L/O).
  rs: (c) => {
    const o = need(c.bars.open, 'open');
    const h = need(c.bars.high, 'high');
    const l = need(c.bars.low, 'low');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) {
      const C = c.close[t]!;
      const O = o[t]!;
      out[t] = Math.log(h[t]! / C) * Math.log(h[t]! / O) + Math.log(l[t]! / C) * Math.log(l[t]! / O);
    }
    return out;
  },
  // Garman–Klass daily variance: ½·ln(H/L)² − (2 ln 2 − 1)·ln(C/O)².
  gk: (c) => {
    const hl2 = c.s('hl2');
    const co2 = c.s('co2');
    const k = 2 * Math.LN2 - 1;
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = 0.5 * hl2[t]! - k * co2[t]!;
    return out;
  },
  // Close location value in [-1, 1]; a flat bar (H = L, e.g. a filled day) carries no information: 0.
  clv: (c) => {
    const h = need(c.bars.high, 'high');
    const l = need(c.bars.low, 'low');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) {
      const C = c.close[t]!;
      const range = h[t]! - l[t]!;
      out[t] = range > 0 ? (C - l[t]! - (h[t]! - C)) / range : range === 0 ? 0 : Number.NaN;
    }
    return out;
  },
  clvv: (c) => {
    const a = c.s('clv');
    const v = need(c.bars.volume, 'volume');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = a[t]! * v[t]!;
    return out;
  },
  // True range: max(H, C₋₁) − min(L, C₋₁).
  tr: (c) => {
    const h = need(c.bars.high, 'high');
    const l = need(c.bars.low, 'low');
    const out = c.alloc().fill(Number.NaN);
    for (let t = 1; t < c.n; t++) {
      const pc = c.close[t - 1]!;
      out[t] = Number.isNaN(pc) ? Number.NaN : Math.max(h[t]!, pc) - Math.min(l[t]!, pc);
    }
    return out;
  },
  tpv: (c) => {
    const tp = c.s('tp');
    const v = need(c.bars.volume, 'volume');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = tp[t]! * v[t]!;
    return out;
  },
  tp: (c) => {
    const h = need(c.bars.high, 'high');
    const l = need(c.bars.low, 'low');
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) out[t] = (h[t]! + l[t]! + c.close[t]!) / 3;
    return out;
  },
  posmf: (c) => moneyFlow(c, 1),
  negmf: (c) => moneyFlow(c, -1),
};

/** Money flow on days the typical price rose (sign 1) or fell (−1), 0 otherwise, NaN without a previous day. */
function moneyFlow(c: SeriesContext, sign: 1 | -1): Float64Array {
  const tp = c.s('tp');
  const tpv = c.s('tpv');
  const out = c.alloc().fill(Number.NaN);
  for (let t = 1; t < c.n; t++) {
    const d = tp[t]! - tp[t - 1]!;
    out[t] = Number.isNaN(d) || Number.isNaN(tpv[t]!) ? Number.NaN : sign * d > 0 ? tpv[t]! : 0;
  }
  return out;
}

/**
 * Float64Arrays of one length, handed out to a SeriesContext and taken back when it is released, so
 * building symbol after symbol reuses the same few hundred arrays instead of feeding the garbage collector.
 * Arrays come back dirty: every user writes all n entries.
 */
export class ArrayPool {
  private readonly free: Float64Array[] = [];
  constructor(readonly n: number) {}
  take(): Float64Array {
    return this.free.pop() ?? new Float64Array(this.n);
  }
  give(arrays: Float64Array[]): void {
    for (const a of arrays) this.free.push(a);
  }
}

export class SeriesContext {
  readonly n: number;
  readonly close: Float64Array;
  readonly scratch: Scratch;
  private readonly memo = new Map<string, Float64Array>();
  private readonly pool: ArrayPool;
  private readonly taken: Float64Array[] = [];

  constructor(readonly bars: SymbolBars, scratch?: Scratch, pool?: ArrayPool) {
    this.n = bars.close.length;
    this.close = bars.close;
    this.scratch = scratch ?? new Scratch(this.n);
    this.pool = pool && pool.n === this.n ? pool : new ArrayPool(this.n);
  }

  /** A length-n array owned by this context until release(); its contents are arbitrary. */
  alloc(): Float64Array {
    const a = this.pool.take();
    this.taken.push(a);
    return a;
  }

  /** Returns every array this context allocated to the pool; the context must not be used afterwards. */
  release(): void {
    this.pool.give(this.taken);
    this.taken.length = 0;
    this.memo.clear();
  }

  private cached(key: string, make: () => Float64Array): Float64Array {
    let v = this.memo.get(key);
    if (!v) {
      v = make();
      this.memo.set(key, v);
    }
    return v;
  }

  /** A named base series ('close', 'x' = ln close, 'r' = simple return, … see BASE). */
  s(name: string): Float64Array {
    if (name === 'close') return this.close;
    const make = BASE[name];
    if (!make) throw new TypeError(`unknown base series '${name}'`);
    return this.cached(name, () => make(this));
  }

  sum(name: string, w: number): Float64Array {
    return this.cached(`sum:${name}:${w}`, () => rollingSum(this.s(name), w, this.alloc(), this.scratch));
  }

  mean(name: string, w: number): Float64Array {
    return this.cached(`mean:${name}:${w}`, () => {
      const sum = this.sum(name, w);
      const out = this.alloc();
      for (let t = 0; t < this.n; t++) out[t] = sum[t]! / w;
      return out;
    });
  }

  /** Sum of squares of a base series over w values (reusing r2, x2… where they are base series). */
  private sumSquares(name: string, w: number): Float64Array {
    const sq = SQUARES[name];
    if (sq) return this.sum(sq, w);
    return this.cached(`sumsq:${name}:${w}`, () => {
      const a = this.s(name);
      const q = this.scratch.extra(0, this.n);
      for (let t = 0; t < this.n; t++) q[t] = a[t]! * a[t]!;
      return rollingSum(q, w, this.alloc(), this.scratch);
    });
  }

  /** Sample variance over w values, from the memoised rolling sums (shared with mean and z-scores). */
  variance(name: string, w: number): Float64Array {
    return this.cached(`var:${name}:${w}`, () => {
      const s1 = this.sum(name, w);
      const s2 = this.sumSquares(name, w);
      const out = this.alloc();
      for (let t = 0; t < this.n; t++) {
        const a = s1[t]!;
        const b = s2[t]!;
        out[t] = w > 1 ? varianceOrZero(b - (a * a) / w, b) / (w - 1) : Number.NaN;
      }
      return out;
    });
  }

  max(name: string, w: number): Float64Array {
    return this.cached(`max:${name}:${w}`, () => rollingMax(this.s(name), w, this.alloc(), this.scratch));
  }

  min(name: string, w: number): Float64Array {
    return this.cached(`min:${name}:${w}`, () => rollingMin(this.s(name), w, this.alloc(), this.scratch));
  }

  age(name: string, w: number, mode: 'max' | 'min'): Float64Array {
    return this.cached(`age:${mode}:${name}:${w}`, () => rollingExtremeAge(this.s(name), w, mode, this.alloc()));
  }

  ewma(name: string, alpha: number): Float64Array {
    return this.cached(`ewma:${name}:${alpha}`, () => ewmaMean(this.s(name), alpha, undefined, this.alloc(), this.scratch));
  }

  /** Daily EWMA volatility of simple returns with the given span (truncated per EWMA_TAIL_WEIGHT). */
  ewvol(span: number): Float64Array {
    return this.cached(`ewvol:${span}`, () => ewmaStd(this.s('r'), spanAlpha(span), undefined, this.alloc(), this.scratch));
  }

  /** σ_t: the ex-ante daily volatility (EWMA span 60) that normalises returns and trend features. */
  sigma(): Float64Array {
    return this.ewvol(SIGMA_SPAN);
  }

  /** Sample standard deviation of daily returns over w returns, annualised. */
  rvol(w: number): Float64Array {
    return this.cached(`rvol:${w}`, () => {
      const v = this.variance('r', w);
      const out = this.alloc();
      for (let t = 0; t < this.n; t++) out[t] = Math.sqrt(v[t]!) * SQRT_252;
      return out;
    });
  }

  /** A derived series memoised under a caller-chosen key (features built from other features). */
  derived(key: string, make: () => Float64Array): Float64Array {
    return this.cached(`derived:${key}`, make);
  }
}
