/**
 * The feature families: each feature's spec (name, group, lookback, OHLCV need, formula) next to the code
 * that computes it, so the declared lookback and the computation cannot drift apart unnoticed; the tests
 * check every declared lookback by perturbation (a bar at t - lookback changes the value, a bar before it
 * never does, and the value is NaN until lookback + 1 bars exist).
 *
 * Lookback arithmetic used below: a bar field (close, high…) reads 0 past bars; a daily return reads 1;
 * a rolling aggregate over w values of a series with lookback a reads a + w - 1; a truncated EWMA is a
 * rolling aggregate over its window W = ewmaWindow(α); a combination reads the maximum of its parts.
 * σ_t (EWMA span 60 of daily returns, W = 118) therefore has lookback 118, and every feature normalised
 * by it at least that much.
 *
 * Notation: p close, x = ln p, r_t = p_t/p_{t-1} - 1, σ_t daily EWMA volatility (span 60), O/H/L/V open,
 * high, low, volume. Bounded oscillators (RSI, range position, stochastics, CLV, money flow, correlations,
 * R²) take their neutral value on a flat window (no movement, no range); every other ratio by zero is NaN.
 */
import { ewmaWindow, rollingSum, rollingVariance, safeDiv, spanAlpha } from './rolling.js';
import { SQRT_252, SIGMA_SPAN, type SeriesContext } from './series-context.js';

export interface FeatureSpec {
  name: string;
  /** The family the feature belongs to. */
  group: string;
  /** Exact number of past bars read: the value at t depends on bars t - lookback … t and nothing older. */
  lookback: number;
  /** Reads open, high, low or volume (not computable from closes alone). */
  needsOhlcv: boolean;
  description: string;
}

export interface FeatureDefinition {
  spec: FeatureSpec;
  /** Writes the feature's series for one symbol into out (length = days), NaN where not computable. */
  compute(c: SeriesContext, out: Float64Array): void;
}

/** Lookback of σ_t: its EWMA reads ewmaWindow returns, i.e. that many past closes. */
export const SIGMA_LOOKBACK = ewmaWindow(spanAlpha(SIGMA_SPAN));

type Compute = FeatureDefinition['compute'];

function def(name: string, group: string, lookback: number, needsOhlcv: boolean, description: string, compute: Compute): FeatureDefinition {
  return { spec: { name, group, lookback, needsOhlcv, description }, compute };
}

/*
 * Elementwise kernels shared by many features. Besides brevity, sharing matters for speed: a one-shot
 * build (a CLI run) spends much of its time before the JIT has optimised each distinct loop, and a loop
 * shared by 60 features is optimised once.
 */

/** out = a / b, NaN where b is 0 or not finite. */
function div(a: Float64Array, b: Float64Array, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = safeDiv(a[t]!, b[t]!);
}

/** out = a / (b·k). */
function divScaled(a: Float64Array, b: Float64Array, k: number, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = safeDiv(a[t]!, b[t]! * k);
}

/** out = (a - b) / d. */
function divDiff(a: Float64Array, b: Float64Array, d: Float64Array, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = safeDiv(a[t]! - b[t]!, d[t]!);
}

function sub(a: Float64Array, b: Float64Array, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = a[t]! - b[t]!;
}

function scale(a: Float64Array, k: number, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = a[t]! * k;
}

/** out = √max(0, a)·k: a variance (clamped against rounding below 0) to an annualised volatility. */
function sqrtScale(a: Float64Array, k: number, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = Math.sqrt(Math.max(0, a[t]!)) * k;
}

/** out = ln(a / b). */
function logRatio(a: Float64Array, b: Float64Array, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = Math.log(a[t]! / b[t]!);
}

/** out[t] = a[t] / a[t-h] - 1 (NaN for t < h). */
function horizonReturn(a: Float64Array, h: number, out: Float64Array): Float64Array {
  for (let t = 0; t < out.length; t++) out[t] = t >= h ? a[t]! / a[t - h]! - 1 : Number.NaN;
  return out;
}

/** out[t] = a[t] - a[t-h] (NaN for t < h). */
function lagDiff(a: Float64Array, h: number, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = t >= h ? a[t]! - a[t - h]! : Number.NaN;
}

/** a / b in [-1, 1] (signed volume share, money flow); 0, the neutral value, when b is 0 (no volume). */
function shareOrNeutral(a: Float64Array, b: Float64Array, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = b[t]! > 0 ? a[t]! / b[t]! : b[t]! === 0 ? 0 : Number.NaN;
}

function pearsonSeries(sa: Float64Array, sb: Float64Array, sab: Float64Array, saa: Float64Array, sbb: Float64Array, w: number, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) out[t] = pearson(sa[t]!, sb[t]!, sab[t]!, saa[t]!, sbb[t]!, w);
}

/** 100·up / (up + down) (RSI, MFI); 50, the neutral value, when both are 0 (a flat window). */
function shareOfTotal(up: Float64Array, down: Float64Array, out: Float64Array): void {
  for (let t = 0; t < out.length; t++) {
    const tot = up[t]! + down[t]!;
    out[t] = tot > 0 ? (100 * up[t]!) / tot : tot === 0 ? 50 : Number.NaN;
  }
}

/** (x - lo) / (hi - lo) in [0, 1] (range position, stochastic %K); 0.5 when the range is flat. */
function positionInRange(x: Float64Array, lo: Float64Array, hi: Float64Array, out: Float64Array): Float64Array {
  for (let t = 0; t < out.length; t++) {
    const range = hi[t]! - lo[t]!;
    out[t] = range > 0 ? (x[t]! - lo[t]!) / range : range === 0 ? 0.5 : Number.NaN;
  }
  return out;
}

/** (a[t] - mean) / sd over a window, from memoised rolling sums: the z-score used by several families. */
function zscore(c: SeriesContext, name: string, w: number, out: Float64Array): void {
  const a = c.s(name);
  const m = c.mean(name, w);
  const v = c.variance(name, w);
  for (let t = 0; t < out.length; t++) out[t] = safeDiv(a[t]! - m[t]!, Math.sqrt(v[t]!));
}

// ---------------------------------------------------------------------------------------------- close only

const VNR_HORIZONS = [1, 2, 3, 4, 5, 7, 10, 15, 21, 30, 42, 63, 84, 105, 126, 168, 189, 210, 252];

function volNormReturns(): FeatureDefinition[] {
  return VNR_HORIZONS.map((h) =>
    def(`vnr_${h}`, 'vol_norm_returns', Math.max(h, SIGMA_LOOKBACK), false, `(p_t/p_{t-${h}} - 1) / (σ_t·√${h}): ${h}-day return in units of ex-ante volatility (Deep Momentum Networks, X-Trend)`, (c, out) => {
      horizonReturn(c.close, h, out);
      divScaled(out, c.sigma(), Math.sqrt(h), out);
    }),
  );
}

const LOGRET_HORIZONS = [1, 2, 3, 5, 10, 21, 42, 63, 126, 252];

function logReturns(): FeatureDefinition[] {
  return LOGRET_HORIZONS.map((h) =>
    def(`logret_${h}`, 'log_returns', h, false, `ln(p_t / p_{t-${h}}): raw ${h}-day log return`, (c, out) => {
      lagDiff(c.s('x'), h, out);
    }),
  );
}

/** (short, long) timescales of Baz et al. (2015) as used in Deep Momentum Networks / X-Trend, plus (4,12), (12,26). */
const MACD_PAIRS: [number, number][] = [
  [4, 12],
  [8, 24],
  [12, 26],
  [16, 48],
  [32, 96],
];
const MACD_PRICE_STD = 63;
const MACD_SIGNAL_STD = 252;

function macd(): FeatureDefinition[] {
  const out: FeatureDefinition[] = [];
  for (const [S, L] of MACD_PAIRS) {
    // m(S): EWMA of prices with α = 1/S (half-life ln 0.5 / ln(1 - 1/S), as in Baz et al.).
    const lbQ = Math.max(ewmaWindow(1 / S), ewmaWindow(1 / L), MACD_PRICE_STD) - 1;
    const lbY = lbQ + MACD_SIGNAL_STD - 1;
    const q = (c: SeriesContext): Float64Array =>
      c.derived(`macd_q:${S}:${L}`, () => {
        const ms = c.ewma('close', 1 / S);
        const ml = c.ewma('close', 1 / L);
        const sd = c.variance('close', MACD_PRICE_STD);
        const v = c.alloc();
        for (let t = 0; t < v.length; t++) v[t] = safeDiv(ms[t]! - ml[t]!, Math.sqrt(sd[t]!));
        return v;
      });
    const y = (c: SeriesContext): Float64Array =>
      c.derived(`macd_y:${S}:${L}`, () => {
        const qs = q(c);
        // The rolling std of q is computed on q itself, through a context over the q series.
        const v = c.derived(`macd_qvar:${S}:${L}`, () => rollingVarianceOf(c, qs, MACD_SIGNAL_STD));
        const res = c.alloc();
        for (let t = 0; t < res.length; t++) res[t] = safeDiv(qs[t]!, Math.sqrt(v[t]!));
        return res;
      });
    out.push(
      def(`macd_q_${S}_${L}`, 'macd', lbQ, false, `(m_${S} - m_${L}) / std_63(p): MACD of price EWMAs (α = 1/timescale) over the 63-day price std (Baz et al. 2015)`, (c, o) => {
        o.set(q(c));
      }),
      def(`macd_${S}_${L}`, 'macd', lbY, false, `macd_q_${S}_${L} / std_252(macd_q_${S}_${L}): the normalised MACD signal of X-Trend`, (c, o) => {
        o.set(y(c));
      }),
      def(`macd_phi_${S}_${L}`, 'macd', lbY, false, `φ(Y) = Y·exp(-Y²/4)/0.89 of macd_${S}_${L}: Baz et al.'s response function`, (c, o) => {
        const ys = y(c);
        for (let t = 0; t < o.length; t++) o[t] = (ys[t]! * Math.exp((-ys[t]! * ys[t]!) / 4)) / 0.89;
      }),
    );
  }
  return out;
}

/** Rolling aggregates of a derived series (not a named base series of the context). */
function rollingVarianceOf(c: SeriesContext, series: Float64Array, w: number): Float64Array {
  return rollingVariance(series, w, c.alloc(), c.scratch);
}

function rollingSumOf(c: SeriesContext, series: Float64Array, w: number): Float64Array {
  return rollingSum(series, w, c.alloc(), c.scratch);
}

const EWVOL_SPANS = [5, 10, 21, 42, 60, 90, 120];

function ewmaVol(): FeatureDefinition[] {
  return EWVOL_SPANS.map((s) =>
    def(`ewvol_${s}`, 'ewma_vol', ewmaWindow(spanAlpha(s)), false, `EWMA std of daily returns, span ${s} (truncated to ${ewmaWindow(spanAlpha(s))} returns), annualised`, (c, out) => {
      const v = c.ewvol(s);
      scale(v, SQRT_252, out);
    }),
  );
}

const RVOL_WINDOWS = [5, 10, 21, 42, 63, 126, 252];

function realisedVol(): FeatureDefinition[] {
  return RVOL_WINDOWS.map((w) =>
    def(`rvol_${w}`, 'realised_vol', w, false, `sample std of the last ${w} daily returns, annualised`, (c, out) => {
      out.set(c.rvol(w));
    }),
  );
}

const DOWNVOL_WINDOWS = [21, 63, 126, 252];

function downsideVol(): FeatureDefinition[] {
  return DOWNVOL_WINDOWS.map((w) =>
    def(`downvol_${w}`, 'downside_vol', w, false, `√(mean of min(r,0)² over ${w} returns), annualised: downside semi-deviation`, (c, out) => {
      const m = c.mean('down2', w);
      sqrtScale(m, SQRT_252, out);
    }),
  );
}

const VOLVOL_WINDOWS = [21, 63, 126];
const VOLVOL_BASE = 21;

function volOfVol(): FeatureDefinition[] {
  return VOLVOL_WINDOWS.map((w) =>
    def(`volvol_${w}`, 'vol_of_vol', VOLVOL_BASE + w - 1, false, `std / mean of rvol_${VOLVOL_BASE} over ${w} days: volatility of volatility`, (c, out) => {
      const rv = c.rvol(VOLVOL_BASE);
      const v = c.derived(`rvolvar:${VOLVOL_BASE}:${w}`, () => rollingVarianceOf(c, rv, w));
      const m = c.derived(`rvolmean:${VOLVOL_BASE}:${w}`, () => {
        const s = rollingSumOf(c, rv, w);
        for (let t = 0; t < s.length; t++) s[t] = s[t]! / w;
        return s;
      });
      for (let t = 0; t < out.length; t++) out[t] = safeDiv(Math.sqrt(v[t]!), m[t]!);
    }),
  );
}


const RVOL_RATIOS: [number, number][] = [
  [5, 21],
  [5, 63],
  [10, 63],
  [21, 63],
  [21, 126],
  [21, 252],
  [63, 252],
  [5, 252],
  [10, 21],
  [42, 252],
];
const EWVOL_RATIOS: [number, number][] = [
  [5, 60],
  [10, 60],
  [21, 120],
  [5, 21],
];

function volRatios(): FeatureDefinition[] {
  return [
    ...RVOL_RATIOS.map(([a, b]) =>
      def(`rvol_ratio_${a}_${b}`, 'vol_ratio', Math.max(a, b), false, `rvol_${a} / rvol_${b}: short over long realised volatility`, (c, out) => {
        const x = c.rvol(a);
        const y = c.rvol(b);
        div(x, y, out);
      }),
    ),
    ...EWVOL_RATIOS.map(([a, b]) =>
      def(`ewvol_ratio_${a}_${b}`, 'vol_ratio', Math.max(ewmaWindow(spanAlpha(a)), ewmaWindow(spanAlpha(b))), false, `ewvol_${a} / ewvol_${b}`, (c, out) => {
        const x = c.ewvol(a);
        const y = c.ewvol(b);
        div(x, y, out);
      }),
    ),
  ];
}

const ZMA_WINDOWS = [5, 10, 20, 30, 50, 100, 150, 200, 252];

function maZscores(): FeatureDefinition[] {
  return ZMA_WINDOWS.map((w) =>
    def(`zma_${w}`, 'ma_zscore', w - 1, false, `(x_t - mean_${w}(x)) / std_${w}(x), x = ln p: z-score of price against its ${w}-day moving average`, (c, out) => {
      zscore(c, 'x', w, out);
    }),
  );
}

const MA_CROSSES: [number, number][] = [
  [5, 20],
  [10, 50],
  [20, 50],
  [20, 100],
  [50, 100],
  [50, 200],
  [100, 252],
];

function maCrosses(): FeatureDefinition[] {
  return MA_CROSSES.map(([a, b]) =>
    def(`macross_${a}_${b}`, 'ma_cross', Math.max(b - 1, SIGMA_LOOKBACK), false, `(mean_${a}(x) - mean_${b}(x)) / σ_t: moving-average crossover in volatility units`, (c, out) => {
      const ma = c.mean('x', a);
      const mb = c.mean('x', b);
      const sig = c.sigma();
      divDiff(ma, mb, sig, out);
    }),
  );
}

const EMA_SPANS = [5, 10, 20, 50, 100];

function emaDistances(): FeatureDefinition[] {
  return EMA_SPANS.map((s) =>
    def(`emadist_${s}`, 'ema_dist', Math.max(ewmaWindow(spanAlpha(s)) - 1, SIGMA_LOOKBACK), false, `(x_t - EWMA_${s}(x)) / σ_t: distance of log price to its span-${s} EWMA in volatility units`, (c, out) => {
      const x = c.s('x');
      const e = c.ewma('x', spanAlpha(s));
      const sig = c.sigma();
      divDiff(x, e, sig, out);
    }),
  );
}

const RSI_WINDOWS = [2, 3, 5, 7, 9, 14, 21, 28, 42, 63];

function rsi(): FeatureDefinition[] {
  return RSI_WINDOWS.map((n) =>
    def(`rsi_${n}`, 'rsi', n, false, `100·Σgain / (Σgain + Σloss) of the last ${n} price changes (Cutler's RSI: simple sums keep the lookback exact); 50 when flat`, (c, out) => {
      const g = c.sum('gain', n);
      const l = c.sum('loss', n);
      shareOfTotal(g, l, out);
    }),
  );
}

const MOMENT_WINDOWS = [21, 42, 63, 126, 252];

/** Population central moments m2, m3, m4 of daily returns over w, from the rolling raw moments. */
function centralMoments(c: SeriesContext, w: number): [Float64Array, Float64Array, Float64Array] {
  const m2 = c.derived(`m2:${w}`, () => {
    const mu = c.mean('r', w);
    const e2 = c.mean('r2', w);
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) {
      const v = e2[t]! - mu[t]! * mu[t]!;
      out[t] = v <= 1e-12 * e2[t]! ? 0 : v;
    }
    return out;
  });
  const m3 = c.derived(`m3:${w}`, () => {
    const mu = c.mean('r', w);
    const e2 = c.mean('r2', w);
    const e3 = c.mean('r3', w);
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) {
      const u = mu[t]!;
      out[t] = e3[t]! - 3 * u * e2[t]! + 2 * u * u * u;
    }
    return out;
  });
  const m4 = c.derived(`m4:${w}`, () => {
    const mu = c.mean('r', w);
    const e2 = c.mean('r2', w);
    const e3 = c.mean('r3', w);
    const e4 = c.mean('r4', w);
    const out = c.alloc();
    for (let t = 0; t < c.n; t++) {
      const u = mu[t]!;
      const u2 = u * u;
      out[t] = e4[t]! - 4 * u * e3[t]! + 6 * u2 * e2[t]! - 3 * u2 * u2;
    }
    return out;
  });
  return [m2, m3, m4];
}

function moments(): FeatureDefinition[] {
  return [
    ...MOMENT_WINDOWS.map((w) =>
      def(`skew_${w}`, 'moments', w, false, `skewness m3 / m2^1.5 of the last ${w} daily returns (population moments)`, (c, out) => {
        const [m2, m3] = centralMoments(c, w);
        for (let t = 0; t < out.length; t++) out[t] = safeDiv(m3[t]!, m2[t]! * Math.sqrt(m2[t]!));
      }),
    ),
    ...MOMENT_WINDOWS.map((w) =>
      def(`kurt_${w}`, 'moments', w, false, `excess kurtosis m4 / m2² - 3 of the last ${w} daily returns`, (c, out) => {
        const [m2, , m4] = centralMoments(c, w);
        for (let t = 0; t < out.length; t++) out[t] = safeDiv(m4[t]!, m2[t]! * m2[t]!) - 3;
      }),
    ),
  ];
}

const DD_WINDOWS = [21, 63, 126, 252];
const RANGEPOS_WINDOWS = [10, 21, 63, 126, 252];
const SINCE_WINDOWS = [21, 63, 252];

function drawdown(): FeatureDefinition[] {
  return [
    ...DD_WINDOWS.map((w) =>
      def(`dd_${w}`, 'drawdown', w - 1, false, `ln(p_t / max of the last ${w} closes): drawdown from the rolling high (≤ 0)`, (c, out) => {
        const m = c.max('close', w);
        logRatio(c.close, m, out);
      }),
    ),
    ...DD_WINDOWS.map((w) =>
      def(`dlow_${w}`, 'drawdown', w - 1, false, `ln(p_t / min of the last ${w} closes): distance above the rolling low (≥ 0)`, (c, out) => {
        const m = c.min('close', w);
        logRatio(c.close, m, out);
      }),
    ),
    ...RANGEPOS_WINDOWS.map((w) =>
      def(`rangepos_${w}`, 'drawdown', w - 1, false, `(p_t - min) / (max - min) over the last ${w} closes, in [0, 1]; 0.5 when flat`, (c, out) => {
        const hi = c.max('close', w);
        const lo = c.min('close', w);
        positionInRange(c.close, lo, hi, out);
      }),
    ),
    ...SINCE_WINDOWS.map((w) =>
      def(`since_high_${w}`, 'drawdown', w - 1, false, `bars since the highest of the last ${w} closes, / ${w - 1}, in [0, 1]`, (c, out) => {
        const a = c.age('close', w, 'max');
        scale(a, 1 / (w - 1), out);
      }),
    ),
    ...SINCE_WINDOWS.map((w) =>
      def(`since_low_${w}`, 'drawdown', w - 1, false, `bars since the lowest of the last ${w} closes, / ${w - 1}, in [0, 1]`, (c, out) => {
        const a = c.age('close', w, 'min');
        scale(a, 1 / (w - 1), out);
      }),
    ),
  ];
}

const TREND_WINDOWS = [5, 10, 21, 42, 63, 126, 252];

function trend(): FeatureDefinition[] {
  // OLS of x_j on the bar index j over the window: Sxy = Σ j·x_j - j̄·Σ x_j, Sxx = w(w² - 1)/12.
  const sxy = (c: SeriesContext, w: number): Float64Array =>
    c.derived(`sxy:${w}`, () => {
      const sjx = c.sum('xj', w);
      const sx = c.sum('x', w);
      const out = c.alloc();
      for (let t = 0; t < out.length; t++) out[t] = sjx[t]! - (t - (w - 1) / 2) * sx[t]!;
      return out;
    });
  return [
    ...TREND_WINDOWS.map((w) =>
      def(`slope_${w}`, 'trend', Math.max(w - 1, SIGMA_LOOKBACK), false, `OLS slope of ln p on time over the last ${w} bars, / σ_t: trend per day in volatility units`, (c, out) => {
        const s = sxy(c, w);
        const sxx = (w * (w * w - 1)) / 12;
        const sig = c.sigma();
        for (let t = 0; t < out.length; t++) out[t] = safeDiv(s[t]! / sxx, sig[t]!);
      }),
    ),
    ...TREND_WINDOWS.map((w) =>
      def(`trend_r2_${w}`, 'trend', w - 1, false, `R² of the OLS fit of ln p on time over the last ${w} bars (trend strength); 0 when flat`, (c, out) => {
        const s = sxy(c, w);
        const sxx = (w * (w * w - 1)) / 12;
        const sx = c.sum('x', w);
        const sx2 = c.sum('x2', w);
        for (let t = 0; t < out.length; t++) {
          const syy = sx2[t]! - (sx[t]! * sx[t]!) / w;
          if (Number.isNaN(syy) || Number.isNaN(s[t]!)) out[t] = Number.NaN;
          else if (syy <= 1e-12 * sx2[t]!) out[t] = 0;
          else out[t] = Math.min(1, (s[t]! * s[t]!) / (sxx * syy));
        }
      }),
    ),
  ];
}

const ACF_WINDOWS = [21, 63, 126, 252];

function autocorr(): FeatureDefinition[] {
  return ACF_WINDOWS.map((w) =>
    def(`acf1_${w}`, 'autocorr', w + 1, false, `Pearson correlation of (r_j, r_{j-1}) over the last ${w} pairs: lag-1 autocorrelation; 0 when flat`, (c, out) => {
      const sa = c.sum('r', w);
      const sb = c.sum('rlag', w);
      const sab = c.sum('r_rlag', w);
      const saa = c.sum('r2', w);
      const sbb = c.sum('rlag2', w);
      pearsonSeries(sa, sb, sab, saa, sbb, w, out);
    }),
  );
}

/** Pearson correlation from window sums; 0 (no linear relation) when either side is flat. */
function pearson(sa: number, sb: number, sab: number, saa: number, sbb: number, w: number): number {
  const cov = sab - (sa * sb) / w;
  const va = saa - (sa * sa) / w;
  const vb = sbb - (sb * sb) / w;
  if (Number.isNaN(cov) || Number.isNaN(va) || Number.isNaN(vb)) return Number.NaN;
  if (va <= 1e-12 * saa || vb <= 1e-12 * sbb) return 0;
  return Math.max(-1, Math.min(1, cov / Math.sqrt(va * vb)));
}

const UPRATE_WINDOWS = [5, 10, 21, 63, 126, 252];

function hitRate(): FeatureDefinition[] {
  return UPRATE_WINDOWS.map((w) =>
    def(`uprate_${w}`, 'hit_rate', w, false, `fraction of up days among the last ${w} returns`, (c, out) => {
      out.set(c.mean('up', w));
    }),
  );
}

const EXTREME_WINDOWS = [5, 21, 63];

function extremeReturns(): FeatureDefinition[] {
  return [
    ...EXTREME_WINDOWS.map((w) =>
      def(`maxret_${w}`, 'extreme_returns', Math.max(w, SIGMA_LOOKBACK), false, `largest daily return of the last ${w}, / σ_t`, (c, out) => {
        const m = c.max('r', w);
        const sig = c.sigma();
        div(m, sig, out);
      }),
    ),
    ...EXTREME_WINDOWS.map((w) =>
      def(`minret_${w}`, 'extreme_returns', Math.max(w, SIGMA_LOOKBACK), false, `smallest daily return of the last ${w}, / σ_t`, (c, out) => {
        const m = c.min('r', w);
        const sig = c.sigma();
        div(m, sig, out);
      }),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------- OHLCV

const RANGE_WINDOWS = [5, 10, 21, 42, 63, 126, 252];

function parkinson(c: SeriesContext, w: number): Float64Array {
  return c.derived(`parkinson:${w}`, () => {
    const m = c.mean('hl2', w);
    const out = c.alloc();
    for (let t = 0; t < out.length; t++) out[t] = Math.sqrt(m[t]! / (4 * Math.LN2)) * SQRT_252;
    return out;
  });
}

function garmanKlass(c: SeriesContext, w: number): Float64Array {
  return c.derived(`gk:${w}`, () => {
    const m = c.mean('gk', w);
    const out = c.alloc();
    // A negative mean only arises from inconsistent bars (open or close outside [low, high]); clamp it.
    sqrtScale(m, SQRT_252, out);
    return out;
  });
}

function rangeVol(): FeatureDefinition[] {
  return [
    ...RANGE_WINDOWS.map((w) =>
      def(`parkinson_${w}`, 'range_vol', w - 1, true, `Parkinson volatility √(mean ln(H/L)² / (4 ln 2)) over ${w} bars, annualised`, (c, out) => {
        out.set(parkinson(c, w));
      }),
    ),
    ...RANGE_WINDOWS.map((w) =>
      def(`garman_klass_${w}`, 'range_vol', w - 1, true, `Garman–Klass volatility √(mean(½ ln(H/L)² - (2 ln 2 - 1) ln(C/O)²)) over ${w} bars, annualised`, (c, out) => {
        out.set(garmanKlass(c, w));
      }),
    ),
    ...RANGE_WINDOWS.map((w) =>
      def(`rogers_satchell_${w}`, 'range_vol', w - 1, true, `Rogers–Satchell volatility √(mean(ln(H/C)ln(H/O) + ln(L/C)ln(L/O))) over ${w} bars, annualised`, (c, out) => {
        const m = c.mean('rs', w);
        sqrtScale(m, SQRT_252, out);
      }),
    ),
    ...RANGE_WINDOWS.map((w) =>
      def(`yang_zhang_${w}`, 'range_vol', w, true, `Yang–Zhang volatility √(var(overnight) + k·var(open→close) + (1-k)·RS) over ${w} bars, k = 0.34/(1.34 + (w+1)/(w-1)), annualised`, (c, out) => {
        const vo = c.variance('on', w);
        const vc = c.variance('co', w);
        const rs = c.mean('rs', w);
        const k = 0.34 / (1.34 + (w + 1) / (w - 1));
        for (let t = 0; t < out.length; t++) out[t] = Math.sqrt(Math.max(0, vo[t]! + k * vc[t]! + (1 - k) * rs[t]!)) * SQRT_252;
      }),
    ),
  ];
}

const PK_RATIO_WINDOWS = [5, 21, 63];
const GK_RATIOS: [number, number][] = [
  [5, 21],
  [5, 63],
  [21, 63],
  [21, 252],
];

function rangeVolRatios(): FeatureDefinition[] {
  return [
    ...PK_RATIO_WINDOWS.map((w) =>
      def(`pk_rv_ratio_${w}`, 'range_vol_ratio', w, true, `parkinson_${w} / rvol_${w}: range-based over close-to-close volatility`, (c, out) => {
        const a = parkinson(c, w);
        const b = c.rvol(w);
        div(a, b, out);
      }),
    ),
    ...GK_RATIOS.map(([a, b]) =>
      def(`gk_ratio_${a}_${b}`, 'range_vol_ratio', b - 1, true, `garman_klass_${a} / garman_klass_${b}`, (c, out) => {
        const x = garmanKlass(c, a);
        const y = garmanKlass(c, b);
        div(x, y, out);
      }),
    ),
  ];
}

const VOLZ_WINDOWS = [5, 10, 21, 42, 63, 126, 252];
const VOLUME_RATIOS: [number, number][] = [
  [5, 21],
  [5, 63],
  [10, 63],
  [21, 126],
  [21, 252],
];
const AMIHUD_WINDOWS = [5, 21, 63, 252];
const SIGNED_VOLUME_WINDOWS = [5, 10, 21, 63, 126];
const VOL_RET_CORR_WINDOWS = [21, 63, 126];
const DOLLAR_VOLZ_WINDOWS = [21, 63, 252];

function volume(): FeatureDefinition[] {
  return [
    ...VOLZ_WINDOWS.map((w) =>
      def(`volz_${w}`, 'volume', w - 1, true, `z-score of ln(1 + V_t) against the last ${w} bars`, (c, out) => {
        zscore(c, 'lv', w, out);
      }),
    ),
    ...VOLUME_RATIOS.map(([a, b]) =>
      def(`volratio_${a}_${b}`, 'volume', b - 1, true, `mean_${a}(ln(1+V)) - mean_${b}(ln(1+V)): log ratio of short to long typical volume`, (c, out) => {
        const x = c.mean('lv', a);
        const y = c.mean('lv', b);
        sub(x, y, out);
      }),
    ),
    ...AMIHUD_WINDOWS.map((w) =>
      def(`amihud_${w}`, 'volume', w, true, `ln(mean of |r| / (1 + p·V) over ${w} bars): Amihud illiquidity (the 1 + keeps zero-volume days finite)`, (c, out) => {
        const m = c.mean('illiq', w);
        for (let t = 0; t < out.length; t++) out[t] = m[t]! > 0 ? Math.log(m[t]!) : Number.NaN;
      }),
    ),
    ...SIGNED_VOLUME_WINDOWS.map((w) =>
      def(`signed_vol_${w}`, 'volume', w, true, `Σ sign(r)·V / Σ V over ${w} bars, in [-1, 1]: on-balance volume share; 0 without volume`, (c, out) => {
        const a = c.sum('sv', w);
        const b = c.sum('vol', w);
        shareOrNeutral(a, b, out);
      }),
    ),
    ...VOL_RET_CORR_WINDOWS.map((w) =>
      def(`vol_ret_corr_${w}`, 'volume', w, true, `correlation of |r| and ln(1+V) over ${w} bars; 0 when flat`, (c, out) => {
        const sa = c.sum('absr', w);
        const sb = c.sum('lv', w);
        const sab = c.sum('absr_lv', w);
        const saa = c.sum('r2', w);
        const sbb = c.sum('lv2', w);
        pearsonSeries(sa, sb, sab, saa, sbb, w, out);
      }),
    ),
    ...DOLLAR_VOLZ_WINDOWS.map((w) =>
      def(`dvolz_${w}`, 'volume', w - 1, true, `z-score of ln(1 + p·V) (dollar volume) against the last ${w} bars`, (c, out) => {
        zscore(c, 'dlv', w, out);
      }),
    ),
  ];
}

const GAP_MEAN_WINDOWS = [5, 10, 21, 63];
const GAP_VOL_WINDOWS = [21, 63, 126];
const INTRADAY_MEAN_WINDOWS = [5, 21, 63];
const GAP_SHARE_WINDOWS = [21, 63];

function gaps(): FeatureDefinition[] {
  return [
    def('gap', 'gap', SIGMA_LOOKBACK, true, 'ln(O_t / C_{t-1}) / σ_t: overnight gap in volatility units', (c, out) => {
      const g = c.s('on');
      const sig = c.sigma();
      div(g, sig, out);
    }),
    def('gap_raw', 'gap', 1, true, 'ln(O_t / C_{t-1}): overnight gap', (c, out) => {
      out.set(c.s('on'));
    }),
    ...GAP_MEAN_WINDOWS.map((w) =>
      def(`gap_mean_${w}`, 'gap', Math.max(w, SIGMA_LOOKBACK), true, `mean overnight gap over ${w} bars / σ_t`, (c, out) => {
        const m = c.mean('on', w);
        const sig = c.sigma();
        div(m, sig, out);
      }),
    ),
    ...GAP_VOL_WINDOWS.map((w) =>
      def(`gap_vol_${w}`, 'gap', w, true, `sample std of overnight gaps over ${w} bars, annualised`, (c, out) => {
        const v = c.variance('on', w);
        sqrtScale(v, SQRT_252, out);
      }),
    ),
    def('intraday', 'gap', SIGMA_LOOKBACK, true, 'ln(C_t / O_t) / σ_t: open-to-close return in volatility units', (c, out) => {
      const g = c.s('co');
      const sig = c.sigma();
      div(g, sig, out);
    }),
    ...INTRADAY_MEAN_WINDOWS.map((w) =>
      def(`intraday_mean_${w}`, 'gap', Math.max(w - 1, SIGMA_LOOKBACK), true, `mean open-to-close log return over ${w} bars / σ_t`, (c, out) => {
        const m = c.mean('co', w);
        const sig = c.sigma();
        div(m, sig, out);
      }),
    ),
    ...GAP_SHARE_WINDOWS.map((w) =>
      def(`gap_share_${w}`, 'gap', w, true, `Σ|overnight| / (Σ|overnight| + Σ|open→close|) over ${w} bars: share of movement made overnight`, (c, out) => {
        const a = c.sum('abson', w);
        const b = c.sum('absco', w);
        for (let t = 0; t < out.length; t++) out[t] = safeDiv(a[t]!, a[t]! + b[t]!);
      }),
    ),
  ];
}

const HL_MEAN_WINDOWS = [5, 21, 63];
const CLV_WINDOWS = [5, 10, 21, 63];
const ATR_WINDOWS = [5, 10, 14, 21, 63];

function atr(c: SeriesContext, w: number): Float64Array {
  return c.derived(`atr:${w}`, () => {
    const m = c.mean('tr', w);
    const out = c.alloc();
    for (let t = 0; t < out.length; t++) out[t] = m[t]! / c.close[t]!;
    return out;
  });
}

function candles(): FeatureDefinition[] {
  const shadow = (c: SeriesContext, out: Float64Array, f: (O: number, H: number, L: number, C: number) => number): void => {
    const o = c.bars.open!;
    const h = c.bars.high!;
    const l = c.bars.low!;
    for (let t = 0; t < out.length; t++) {
      const range = h[t]! - l[t]!;
      // A flat bar has no shadows and no body: 0, the neutral value.
      out[t] = !(range >= 0) ? Number.NaN : range === 0 ? 0 : f(o[t]!, h[t]!, l[t]!, c.close[t]!) / range;
    }
  };
  return [
    def('hl_range', 'candle', SIGMA_LOOKBACK, true, 'ln(H_t / L_t) / σ_t: daily range in volatility units', (c, out) => {
      const a = c.s('hl');
      const sig = c.sigma();
      div(a, sig, out);
    }),
    ...HL_MEAN_WINDOWS.map((w) =>
      def(`hl_range_mean_${w}`, 'candle', Math.max(w - 1, SIGMA_LOOKBACK), true, `mean ln(H/L) over ${w} bars / σ_t`, (c, out) => {
        const m = c.mean('hl', w);
        const sig = c.sigma();
        div(m, sig, out);
      }),
    ),
    def('clv', 'candle', 0, true, '((C - L) - (H - C)) / (H - L): close location value in [-1, 1]; 0 for a flat bar', (c, out) => {
      out.set(c.s('clv'));
    }),
    ...CLV_WINDOWS.map((w) =>
      def(`clv_mean_${w}`, 'candle', w - 1, true, `mean close location value over ${w} bars`, (c, out) => {
        out.set(c.mean('clv', w));
      }),
    ),
    def('upper_shadow', 'candle', 0, true, '(H - max(O, C)) / (H - L): upper shadow share of the range', (c, out) => {
      shadow(c, out, (O, H, _L, C) => H - Math.max(O, C));
    }),
    def('lower_shadow', 'candle', 0, true, '(min(O, C) - L) / (H - L): lower shadow share of the range', (c, out) => {
      shadow(c, out, (O, _H, L, C) => Math.min(O, C) - L);
    }),
    def('body', 'candle', 0, true, '(C - O) / (H - L): signed body share of the range', (c, out) => {
      shadow(c, out, (O, _H, _L, C) => C - O);
    }),
    ...ATR_WINDOWS.map((w) =>
      def(`atr_${w}`, 'candle', w, true, `mean true range over ${w} bars / p_t (simple mean, not Wilder's, to keep the lookback exact)`, (c, out) => {
        out.set(atr(c, w));
      }),
    ),
    def('atr_ratio_5_63', 'candle', 63, true, 'atr_5 / atr_63', (c, out) => {
      const a = atr(c, 5);
      const b = atr(c, 63);
      div(a, b, out);
    }),
  ];
}

const STOCH_WINDOWS = [5, 9, 14, 21, 63];
const STOCH_D_WINDOWS = [5, 14, 21];
const STOCH_D_SMOOTH = 3;

function stochK(c: SeriesContext, w: number): Float64Array {
  return c.derived(`stochk:${w}`, () => {
    const hi = c.max('high', w);
    const lo = c.min('low', w);
    return positionInRange(c.close, lo, hi, c.alloc());
  });
}

function stochastics(): FeatureDefinition[] {
  return [
    ...STOCH_WINDOWS.map((w) =>
      def(`stoch_k_${w}`, 'stochastic', w - 1, true, `(C_t - min L) / (max H - min L) over ${w} bars: stochastic %K in [0, 1]; 0.5 when flat`, (c, out) => {
        out.set(stochK(c, w));
      }),
    ),
    ...STOCH_D_WINDOWS.map((w) =>
      def(`stoch_d_${w}`, 'stochastic', w - 1 + STOCH_D_SMOOTH - 1, true, `mean of the last ${STOCH_D_SMOOTH} stoch_k_${w}: stochastic %D`, (c, out) => {
        const k = stochK(c, w);
        const s = rollingSumOf(c, k, STOCH_D_SMOOTH);
        scale(s, 1 / STOCH_D_SMOOTH, out);
      }),
    ),
  ];
}

const DONCHIAN_WINDOWS = [10, 21, 63, 126, 252];

function donchian(): FeatureDefinition[] {
  return [
    ...DONCHIAN_WINDOWS.map((w) =>
      def(`donch_high_${w}`, 'donchian', w - 1, true, `ln(C_t / max of the last ${w} highs): distance below the Donchian upper band`, (c, out) => {
        const m = c.max('high', w);
        logRatio(c.close, m, out);
      }),
    ),
    ...DONCHIAN_WINDOWS.map((w) =>
      def(`donch_low_${w}`, 'donchian', w - 1, true, `ln(C_t / min of the last ${w} lows): distance above the Donchian lower band`, (c, out) => {
        const m = c.min('low', w);
        logRatio(c.close, m, out);
      }),
    ),
  ];
}

const CMF_WINDOWS = [10, 21, 63];
const MFI_WINDOWS = [7, 14, 21];
const VWAP_WINDOWS = [5, 10, 21, 63];

function moneyFlow(): FeatureDefinition[] {
  return [
    ...CMF_WINDOWS.map((w) =>
      def(`cmf_${w}`, 'money_flow', w - 1, true, `Σ CLV·V / Σ V over ${w} bars: Chaikin money flow in [-1, 1]; 0 without volume`, (c, out) => {
        const a = c.sum('clvv', w);
        const b = c.sum('vol', w);
        shareOrNeutral(a, b, out);
      }),
    ),
    ...MFI_WINDOWS.map((w) =>
      def(`mfi_${w}`, 'money_flow', w, true, `100·Σ up-flow / (Σ up-flow + Σ down-flow), flow = typical price · V, over ${w} bars: money flow index; 50 when flat`, (c, out) => {
        const p = c.sum('posmf', w);
        const n = c.sum('negmf', w);
        shareOfTotal(p, n, out);
      }),
    ),
    ...VWAP_WINDOWS.map((w) =>
      def(`vwap_dist_${w}`, 'money_flow', Math.max(w - 1, SIGMA_LOOKBACK), true, `(ln C_t - ln VWAP_${w}) / σ_t, VWAP = Σ typical price·V / Σ V over ${w} bars`, (c, out) => {
        const a = c.sum('tpv', w);
        const b = c.sum('vol', w);
        const sig = c.sigma();
        for (let t = 0; t < out.length; t++) out[t] = safeDiv(Math.log(c.close[t]!) - Math.log(safeDiv(a[t]!, b[t]!)), sig[t]!);
      }),
    ),
  ];
}

/** Every feature, close-only families first; the order is the column order of a full FeaturePanel. */
export const FEATURE_DEFINITIONS: readonly FeatureDefinition[] = Object.freeze([
  ...volNormReturns(),
  ...logReturns(),
  ...macd(),
  ...ewmaVol(),
  ...realisedVol(),
  ...downsideVol(),
  ...volOfVol(),
  ...volRatios(),
  ...maZscores(),
  ...maCrosses(),
  ...emaDistances(),
  ...rsi(),
  ...moments(),
  ...drawdown(),
  ...trend(),
  ...autocorr(),
  ...hitRate(),
  ...extremeReturns(),
  ...rangeVol(),
  ...rangeVolRatios(),
  ...volume(),
  ...gaps(),
  ...candles(),
  ...stochastics(),
  ...donchian(),
  ...moneyFlow(),
]);
