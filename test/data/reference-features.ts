/**
 * An independent, deliberately naive implementation of every catalogue feature: one value at one day,
 * recomputed from the raw bars of its window with plain loops and textbook formulas (no rolling sums, no
 * shared intermediates, no block scheme). The feature tests compare the builder against it.
 *
 * It implements the formulas stated in the catalogue descriptions, including the EWMA truncation rule
 * (weights (1-α)^k for k < W, W the smallest integer with (1-α)^W ≤ 0.02) and the neutral values of
 * bounded oscillators on flat windows.
 */
export interface Bars {
  c: ArrayLike<number>;
  o?: ArrayLike<number>;
  h?: ArrayLike<number>;
  l?: ArrayLike<number>;
  v?: ArrayLike<number>;
}

const NaN_ = Number.NaN;
const ANN = Math.sqrt(252);

function truncation(alpha: number): number {
  let W = 1;
  while ((1 - alpha) ** W > 0.02) W++;
  return W;
}

function get(a: ArrayLike<number> | undefined, i: number): number {
  if (!a || i < 0 || i >= a.length) return NaN_;
  return a[i]!;
}

/** Values f(j) for j = t-w+1 … t (oldest first); null when the window starts before day 0. */
function window(t: number, w: number, f: (j: number) => number): number[] | null {
  if (t - w + 1 < 0) return null;
  const out: number[] = [];
  for (let j = t - w + 1; j <= t; j++) out.push(f(j));
  return out;
}

const hasNaN = (v: number[]): boolean => v.some((x) => Number.isNaN(x));
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
function sampleVar(v: number[]): number {
  const m = mean(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
}
const sampleStd = (v: number[]): number => Math.sqrt(sampleVar(v));
function ratio(a: number, b: number): number {
  return b !== 0 && Number.isFinite(b) ? a / b : NaN_;
}

export class Reference {
  constructor(private readonly b: Bars) {}

  private c(j: number): number {
    return get(this.b.c, j);
  }
  private r(j: number): number {
    return this.c(j) / this.c(j - 1) - 1;
  }
  private x(j: number): number {
    return Math.log(this.c(j));
  }

  /** Weighted EWMA over the truncated window, most recent weight 1; null before the window exists. */
  private ewm(t: number, alpha: number, f: (j: number) => number): number {
    const W = truncation(alpha);
    const v = window(t, W, f);
    if (!v) return NaN_;
    let num = 0;
    let den = 0;
    for (let k = 0; k < W; k++) {
      const wk = (1 - alpha) ** k;
      num += wk * v[W - 1 - k]!;
      den += wk;
    }
    return num / den;
  }

  private ewstd(t: number, span: number): number {
    const alpha = 2 / (span + 1);
    const W = truncation(alpha);
    const v = window(t, W, (j) => this.r(j));
    if (!v || t - W < 0) return NaN_;
    const w = Array.from({ length: W }, (_, k) => (1 - alpha) ** (W - 1 - k)); // oldest first
    const z = w.reduce((a, b) => a + b, 0);
    const z2 = w.reduce((a, b) => a + b * b, 0);
    const m = v.reduce((a, x, i) => a + w[i]! * x, 0) / z;
    const m2 = v.reduce((a, x, i) => a + w[i]! * (x - m) ** 2, 0) / z;
    return Math.sqrt((m2 * z * z) / (z * z - z2));
  }

  private sigma(t: number): number {
    return this.ewstd(t, 60);
  }

  private rets(t: number, w: number): number[] | null {
    if (t - w < 0) return null;
    return window(t, w, (j) => this.r(j));
  }

  private rvol(t: number, w: number): number {
    const v = this.rets(t, w);
    return v ? sampleStd(v) * ANN : NaN_;
  }

  private zscore(t: number, w: number, f: (j: number) => number): number {
    const v = window(t, w, f);
    if (!v) return NaN_;
    const sd = sampleStd(v);
    return ratio(f(t) - mean(v), sd < 1e-9 * Math.abs(mean(v)) ? 0 : sd);
  }

  private pearson(a: number[], b: number[]): number {
    if (hasNaN(a) || hasNaN(b)) return NaN_;
    const ma = mean(a);
    const mb = mean(b);
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let i = 0; i < a.length; i++) {
      sab += (a[i]! - ma) * (b[i]! - mb);
      saa += (a[i]! - ma) ** 2;
      sbb += (b[i]! - mb) ** 2;
    }
    if (saa <= 1e-12 * a.reduce((s, x) => s + x * x, 0) || sbb <= 1e-12 * b.reduce((s, x) => s + x * x, 0)) return 0;
    return sab / Math.sqrt(saa * sbb);
  }

  private macdQ(t: number, S: number, L: number): number {
    const ms = this.ewm(t, 1 / S, (j) => this.c(j));
    const ml = this.ewm(t, 1 / L, (j) => this.c(j));
    const p = window(t, 63, (j) => this.c(j));
    if (!p) return NaN_;
    return ratio(ms - ml, sampleStd(p));
  }

  private macdY(t: number, S: number, L: number): number {
    const q = window(t, 252, (j) => this.macdQ(j, S, L));
    if (!q) return NaN_;
    return ratio(q[q.length - 1]!, sampleStd(q));
  }

  private o(j: number): number {
    return get(this.b.o, j);
  }
  private h(j: number): number {
    return get(this.b.h, j);
  }
  private l(j: number): number {
    return get(this.b.l, j);
  }
  private vol(j: number): number {
    return get(this.b.v, j);
  }
  private overnight(j: number): number {
    return Math.log(this.o(j) / this.c(j - 1));
  }
  private intraday(j: number): number {
    return Math.log(this.c(j) / this.o(j));
  }
  private rs(j: number): number {
    const [o, h, l, c] = [this.o(j), this.h(j), this.l(j), this.c(j)];
    return Math.log(h / c) * Math.log(h / o) + Math.log(l / c) * Math.log(l / o);
  }
  private clv(j: number): number {
    const [h, l, c] = [this.h(j), this.l(j), this.c(j)];
    if (Number.isNaN(h - l)) return NaN_;
    return h - l === 0 ? 0 : (c - l - (h - c)) / (h - l);
  }
  private parkinson(t: number, w: number): number {
    const v = window(t, w, (j) => Math.log(this.h(j) / this.l(j)) ** 2);
    return v ? Math.sqrt(mean(v) / (4 * Math.LN2)) * ANN : NaN_;
  }
  private gk(t: number, w: number): number {
    const v = window(t, w, (j) => 0.5 * Math.log(this.h(j) / this.l(j)) ** 2 - (2 * Math.LN2 - 1) * this.intraday(j) ** 2);
    return v ? Math.sqrt(Math.max(0, mean(v))) * ANN : NaN_;
  }
  private atr(t: number, w: number): number {
    if (t - w < 0) return NaN_;
    const v = window(t, w, (j) => Math.max(this.h(j), this.c(j - 1)) - Math.min(this.l(j), this.c(j - 1)));
    return v ? mean(v) / this.c(t) : NaN_;
  }
  private stochK(t: number, w: number): number {
    const hs = window(t, w, (j) => this.h(j));
    const ls = window(t, w, (j) => this.l(j));
    if (!hs || !ls || hasNaN(hs) || hasNaN(ls)) return NaN_;
    const hi = Math.max(...hs);
    const lo = Math.min(...ls);
    return hi - lo === 0 ? 0.5 : (this.c(t) - lo) / (hi - lo);
  }

  /** The value of feature `name` at day t. */
  value(name: string, t: number): number {
    let m: RegExpMatchArray | null;
    const num = (i: number): number => Number(m![i]);
    const c = (j: number): number => this.c(j);
    if ((m = name.match(/^vnr_(\d+)$/))) {
      const h = num(1);
      if (t - h < 0) return NaN_;
      return ratio(c(t) / c(t - h) - 1, this.sigma(t) * Math.sqrt(h));
    }
    if ((m = name.match(/^logret_(\d+)$/))) return t - num(1) < 0 ? NaN_ : Math.log(c(t) / c(t - num(1)));
    if ((m = name.match(/^macd_q_(\d+)_(\d+)$/))) return this.macdQ(t, num(1), num(2));
    if ((m = name.match(/^macd_(\d+)_(\d+)$/))) return this.macdY(t, num(1), num(2));
    if ((m = name.match(/^macd_phi_(\d+)_(\d+)$/))) {
      const y = this.macdY(t, num(1), num(2));
      return (y * Math.exp(-(y * y) / 4)) / 0.89;
    }
    if ((m = name.match(/^ewvol_(\d+)$/))) return this.ewstd(t, num(1)) * ANN;
    if ((m = name.match(/^rvol_(\d+)$/))) return this.rvol(t, num(1));
    if ((m = name.match(/^downvol_(\d+)$/))) {
      const v = this.rets(t, num(1));
      return v ? Math.sqrt(mean(v.map((x) => Math.min(x, 0) ** 2))) * ANN : NaN_;
    }
    if ((m = name.match(/^volvol_(\d+)$/))) {
      const v = window(t, num(1), (j) => this.rvol(j, 21));
      return v ? ratio(sampleStd(v), mean(v)) : NaN_;
    }
    if ((m = name.match(/^rvol_ratio_(\d+)_(\d+)$/))) return ratio(this.rvol(t, num(1)), this.rvol(t, num(2)));
    if ((m = name.match(/^ewvol_ratio_(\d+)_(\d+)$/))) return ratio(this.ewstd(t, num(1)), this.ewstd(t, num(2)));
    if ((m = name.match(/^zma_(\d+)$/))) return this.zscore(t, num(1), (j) => this.x(j));
    if ((m = name.match(/^macross_(\d+)_(\d+)$/))) {
      const a = window(t, num(1), (j) => this.x(j));
      const b = window(t, num(2), (j) => this.x(j));
      return a && b ? ratio(mean(a) - mean(b), this.sigma(t)) : NaN_;
    }
    if ((m = name.match(/^emadist_(\d+)$/))) return ratio(this.x(t) - this.ewm(t, 2 / (num(1) + 1), (j) => this.x(j)), this.sigma(t));
    if ((m = name.match(/^rsi_(\d+)$/))) {
      if (t - num(1) < 0) return NaN_;
      const d = window(t, num(1), (j) => c(j) - c(j - 1))!;
      if (hasNaN(d)) return NaN_;
      const g = d.reduce((a, x) => a + Math.max(x, 0), 0);
      const l = d.reduce((a, x) => a + Math.max(-x, 0), 0);
      return g + l === 0 ? 50 : (100 * g) / (g + l);
    }
    if ((m = name.match(/^(skew|kurt)_(\d+)$/))) {
      const v = this.rets(t, num(2));
      if (!v) return NaN_;
      const mu = mean(v);
      const m2 = mean(v.map((x) => (x - mu) ** 2));
      const m3 = mean(v.map((x) => (x - mu) ** 3));
      const m4 = mean(v.map((x) => (x - mu) ** 4));
      return m[1] === 'skew' ? ratio(m3, m2 ** 1.5) : ratio(m4, m2 * m2) - 3;
    }
    if ((m = name.match(/^(dd|dlow|rangepos|since_high|since_low)_(\d+)$/))) {
      const w = num(2);
      const v = window(t, w, c);
      if (!v || hasNaN(v)) return NaN_;
      const hi = Math.max(...v);
      const lo = Math.min(...v);
      switch (m[1]) {
        case 'dd':
          return Math.log(c(t) / hi);
        case 'dlow':
          return Math.log(c(t) / lo);
        case 'rangepos':
          return hi === lo ? 0.5 : (c(t) - lo) / (hi - lo);
        case 'since_high':
          return (w - 1 - v.lastIndexOf(hi)) / (w - 1);
        default:
          return (w - 1 - v.lastIndexOf(lo)) / (w - 1);
      }
    }
    if ((m = name.match(/^(slope|trend_r2)_(\d+)$/))) {
      const w = num(2);
      const y = window(t, w, (j) => this.x(j));
      if (!y) return NaN_;
      const xs = y.map((_, i) => i);
      const mx = mean(xs);
      const my = mean(y);
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let i = 0; i < w; i++) {
        sxy += (xs[i]! - mx) * (y[i]! - my);
        sxx += (xs[i]! - mx) ** 2;
        syy += (y[i]! - my) ** 2;
      }
      if (m[1] === 'slope') return ratio(sxy / sxx, this.sigma(t));
      if (Number.isNaN(syy)) return NaN_;
      return syy <= 1e-12 * y.reduce((a, q) => a + q * q, 0) ? 0 : Math.min(1, (sxy * sxy) / (sxx * syy));
    }
    if ((m = name.match(/^acf1_(\d+)$/))) {
      const w = num(1);
      if (t - w - 1 < 0) return NaN_;
      return this.pearson(window(t, w, (j) => this.r(j))!, window(t, w, (j) => this.r(j - 1))!);
    }
    if ((m = name.match(/^uprate_(\d+)$/))) {
      const v = this.rets(t, num(1));
      return v ? (hasNaN(v) ? NaN_ : v.filter((x) => x > 0).length / v.length) : NaN_;
    }
    if ((m = name.match(/^(maxret|minret)_(\d+)$/))) {
      const v = this.rets(t, num(2));
      if (!v || hasNaN(v)) return NaN_;
      return ratio(m[1] === 'maxret' ? Math.max(...v) : Math.min(...v), this.sigma(t));
    }
    // --- OHLCV ---
    if ((m = name.match(/^parkinson_(\d+)$/))) return this.parkinson(t, num(1));
    if ((m = name.match(/^garman_klass_(\d+)$/))) return this.gk(t, num(1));
    if ((m = name.match(/^rogers_satchell_(\d+)$/))) {
      const v = window(t, num(1), (j) => this.rs(j));
      return v ? Math.sqrt(Math.max(0, mean(v))) * ANN : NaN_;
    }
    if ((m = name.match(/^yang_zhang_(\d+)$/))) {
      const w = num(1);
      if (t - w < 0) return NaN_;
      const on = window(t, w, (j) => this.overnight(j))!;
      const co = window(t, w, (j) => this.intraday(j))!;
      const rs = window(t, w, (j) => this.rs(j))!;
      const k = 0.34 / (1.34 + (w + 1) / (w - 1));
      return Math.sqrt(Math.max(0, sampleVar(on) + k * sampleVar(co) + (1 - k) * mean(rs))) * ANN;
    }
    if ((m = name.match(/^pk_rv_ratio_(\d+)$/))) return ratio(this.parkinson(t, num(1)), this.rvol(t, num(1)));
    if ((m = name.match(/^gk_ratio_(\d+)_(\d+)$/))) return ratio(this.gk(t, num(1)), this.gk(t, num(2)));
    const lv = (j: number): number => Math.log1p(this.vol(j));
    if ((m = name.match(/^volz_(\d+)$/))) return this.zscore(t, num(1), lv);
    if ((m = name.match(/^volratio_(\d+)_(\d+)$/))) {
      const a = window(t, num(1), lv);
      const b = window(t, num(2), lv);
      return a && b ? mean(a) - mean(b) : NaN_;
    }
    if ((m = name.match(/^amihud_(\d+)$/))) {
      if (t - num(1) < 0) return NaN_;
      const v = window(t, num(1), (j) => Math.abs(this.r(j)) / (1 + c(j) * this.vol(j)))!;
      const mm = mean(v);
      return mm > 0 ? Math.log(mm) : NaN_;
    }
    if ((m = name.match(/^signed_vol_(\d+)$/))) {
      if (t - num(1) < 0) return NaN_;
      const a = window(t, num(1), (j) => Math.sign(this.r(j)) * this.vol(j))!;
      const b = window(t, num(1), (j) => this.vol(j))!;
      const sa = a.reduce((p, q) => p + q, 0);
      const sb = b.reduce((p, q) => p + q, 0);
      return Number.isNaN(sa + sb) ? NaN_ : sb === 0 ? 0 : sa / sb;
    }
    if ((m = name.match(/^vol_ret_corr_(\d+)$/))) {
      if (t - num(1) < 0) return NaN_;
      return this.pearson(window(t, num(1), (j) => Math.abs(this.r(j)))!, window(t, num(1), lv)!);
    }
    if ((m = name.match(/^dvolz_(\d+)$/))) return this.zscore(t, num(1), (j) => Math.log1p(c(j) * this.vol(j)));
    if (name === 'gap') return ratio(this.overnight(t), this.sigma(t));
    if (name === 'gap_raw') return this.overnight(t);
    if ((m = name.match(/^gap_mean_(\d+)$/))) {
      if (t - num(1) < 0) return NaN_;
      return ratio(mean(window(t, num(1), (j) => this.overnight(j))!), this.sigma(t));
    }
    if ((m = name.match(/^gap_vol_(\d+)$/))) {
      if (t - num(1) < 0) return NaN_;
      return sampleStd(window(t, num(1), (j) => this.overnight(j))!) * ANN;
    }
    if (name === 'intraday') return ratio(this.intraday(t), this.sigma(t));
    if ((m = name.match(/^intraday_mean_(\d+)$/))) {
      const v = window(t, num(1), (j) => this.intraday(j));
      return v ? ratio(mean(v), this.sigma(t)) : NaN_;
    }
    if ((m = name.match(/^gap_share_(\d+)$/))) {
      if (t - num(1) < 0) return NaN_;
      const a = window(t, num(1), (j) => Math.abs(this.overnight(j)))!.reduce((p, q) => p + q, 0);
      const b = window(t, num(1), (j) => Math.abs(this.intraday(j)))!.reduce((p, q) => p + q, 0);
      return ratio(a, a + b);
    }
    if (name === 'hl_range') return ratio(Math.log(this.h(t) / this.l(t)), this.sigma(t));
    if ((m = name.match(/^hl_range_mean_(\d+)$/))) {
      const v = window(t, num(1), (j) => Math.log(this.h(j) / this.l(j)));
      return v ? ratio(mean(v), this.sigma(t)) : NaN_;
    }
    if (name === 'clv') return this.clv(t);
    if ((m = name.match(/^clv_mean_(\d+)$/))) {
      const v = window(t, num(1), (j) => this.clv(j));
      return v ? mean(v) : NaN_;
    }
    if (name === 'upper_shadow' || name === 'lower_shadow' || name === 'body') {
      const [o, h, l, cc] = [this.o(t), this.h(t), this.l(t), c(t)];
      const range = h - l;
      if (!(range >= 0)) return NaN_;
      if (range === 0) return 0;
      if (name === 'upper_shadow') return (h - Math.max(o, cc)) / range;
      if (name === 'lower_shadow') return (Math.min(o, cc) - l) / range;
      return (cc - o) / range;
    }
    if ((m = name.match(/^atr_(\d+)$/))) return this.atr(t, num(1));
    if (name === 'atr_ratio_5_63') return ratio(this.atr(t, 5), this.atr(t, 63));
    if ((m = name.match(/^stoch_k_(\d+)$/))) return this.stochK(t, num(1));
    if ((m = name.match(/^stoch_d_(\d+)$/))) {
      const v = window(t, 3, (j) => this.stochK(j, num(1)));
      return v ? mean(v) : NaN_;
    }
    if ((m = name.match(/^donch_(high|low)_(\d+)$/))) {
      const v = window(t, num(2), (j) => (m![1] === 'high' ? this.h(j) : this.l(j)));
      if (!v || hasNaN(v)) return NaN_;
      return Math.log(c(t) / (m[1] === 'high' ? Math.max(...v) : Math.min(...v)));
    }
    if ((m = name.match(/^cmf_(\d+)$/))) {
      const a = window(t, num(1), (j) => this.clv(j) * this.vol(j));
      const b = window(t, num(1), (j) => this.vol(j));
      if (!a || !b) return NaN_;
      const sa = a.reduce((p, q) => p + q, 0);
      const sb = b.reduce((p, q) => p + q, 0);
      return Number.isNaN(sa + sb) ? NaN_ : sb === 0 ? 0 : sa / sb;
    }
    if ((m = name.match(/^mfi_(\d+)$/))) {
      if (t - num(1) < 0) return NaN_;
      const tp = (j: number): number => (this.h(j) + this.l(j) + c(j)) / 3;
      let up = 0;
      let down = 0;
      for (let j = t - num(1) + 1; j <= t; j++) {
        const d = tp(j) - tp(j - 1);
        const flow = tp(j) * this.vol(j);
        if (Number.isNaN(d) || Number.isNaN(flow)) return NaN_;
        if (d > 0) up += flow;
        else if (d < 0) down += flow;
      }
      return up + down === 0 ? 50 : (100 * up) / (up + down);
    }
    if ((m = name.match(/^vwap_dist_(\d+)$/))) {
      const a = window(t, num(1), (j) => ((this.h(j) + this.l(j) + c(j)) / 3) * this.vol(j));
      const b = window(t, num(1), (j) => this.vol(j));
      if (!a || !b) return NaN_;
      const vwap = ratio(a.reduce((p, q) => p + q, 0), b.reduce((p, q) => p + q, 0));
      return ratio(Math.log(c(t)) - Math.log(vwap), this.sigma(t));
    }
    throw new Error(`no reference for feature '${name}'`);
  }
}
