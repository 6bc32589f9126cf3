/**
 * Rolling-window primitives over Float64Array time series, O(n) each, whose output at t is a function of
 * the window's own values only, bit for bit.
 *
 * Why not the usual running sum (add the new value, subtract the one leaving)? Its rounding residue carries
 * every value it ever saw, so the result at t depends (in its last bits) on bars far older than the
 * window, and a NaN that enters it never leaves. The catalogue promises an *exact* lookback, and the
 * leakage checks compare features bit for bit, so these primitives use the van Herk / Gil-Werman block
 * scheme instead: cut the series into blocks of the window length w, keep prefix aggregates that restart at
 * each block start and suffix aggregates that restart at each block end; the window ending at t is then
 * suffix(start) ⊕ prefix(t), two aggregates of values inside the window. Still O(1) per output, no drift,
 * and a NaN only poisons the windows that contain it.
 *
 * Convention for every function: out[t] is NaN for t < w - 1 (the window is incomplete) and NaN when any
 * value in the window is NaN.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * Tail weight an EWMA may drop when truncated to a finite window: weights α(1-α)^k are kept for
 * k < W where (1-α)^W ≤ EWMA_TAIL_WEIGHT, and renormalised to sum to 1. 2% keeps the truncated mean
 * within a few hundredths of a standard deviation of the infinite EWMA while holding span-60 volatility
 * to a 118-bar window (W ≈ 1.96 × span).
 */
export const EWMA_TAIL_WEIGHT = 0.02;

/** Window length W of a truncated EWMA with smoothing α (see EWMA_TAIL_WEIGHT). */
export function ewmaWindow(alpha: number): number {
  if (!(alpha > 0 && alpha <= 1)) throw new InvalidArgumentError(`EWMA alpha must be in (0, 1], got ${alpha}`, 'alpha');
  if (alpha === 1) return 1;
  return Math.max(1, Math.ceil(Math.log(EWMA_TAIL_WEIGHT) / Math.log(1 - alpha)));
}

/** α of an EWMA given by its span s (pandas' convention: α = 2 / (s + 1)). */
export function spanAlpha(span: number): number {
  return 2 / (span + 1);
}

function checkWindow(w: number): void {
  if (!Number.isInteger(w) || w < 1) throw new InvalidArgumentError(`window must be a positive integer, got ${w}`, 'window');
}

/**
 * Reusable scratch so a feature build does not allocate per rolling call: pair() for the block scheme's
 * prefix/suffix, extra() for the temporaries of variance and EWMA std (distinct buffers, as those call
 * the block functions while holding them).
 */
export class Scratch {
  private a: Float64Array;
  private b: Float64Array;
  private readonly more: Float64Array[] = [];
  constructor(n: number) {
    this.a = new Float64Array(n);
    this.b = new Float64Array(n);
  }
  pair(n: number): [Float64Array, Float64Array] {
    if (this.a.length !== n) {
      this.a = new Float64Array(n);
      this.b = new Float64Array(n);
    }
    return [this.a, this.b];
  }
  extra(k: number, n: number): Float64Array {
    let e = this.more[k];
    if (!e || e.length !== n) {
      e = new Float64Array(n);
      this.more[k] = e;
    }
    return e;
  }
}

const shared = new Scratch(0);

/*
 * Block-scheme loops. For t = B + j in the block starting at B, the window starts at s = B - w + j + 1,
 * inside the previous block unless j = w - 1 (then the window is exactly this block: out[t] = pre[t]).
 * Written out per operation rather than through an operator callback, which V8 would not inline here.
 */

/** out[t] = x[t-w+1] + … + x[t]. */
export function rollingSum(x: Float64Array, w: number, out: Float64Array = new Float64Array(x.length), scratch: Scratch = shared): Float64Array {
  checkWindow(w);
  const n = x.length;
  const [pre, suf] = scratch.pair(n);
  for (let B = 0; B < n; B += w) {
    const E = Math.min(n, B + w);
    let acc = x[B]!;
    pre[B] = acc;
    for (let i = B + 1; i < E; i++) pre[i] = acc = acc + x[i]!;
    acc = x[E - 1]!;
    suf[E - 1] = acc;
    for (let i = E - 2; i >= B; i--) suf[i] = acc = x[i]! + acc;
  }
  const lim = Math.min(n, w - 1);
  for (let t = 0; t < lim; t++) out[t] = Number.NaN;
  if (n >= w) out[w - 1] = pre[w - 1]!;
  for (let B = w; B < n; B += w) {
    const E = Math.min(n, B + w - 1);
    const off = 1 - w;
    for (let t = B; t < E; t++) out[t] = suf[t + off]! + pre[t]!;
    if (B + w - 1 < n) out[B + w - 1] = pre[B + w - 1]!;
  }
  return out;
}

/** out[t] = max(x[t-w+1..t]); Math.max propagates NaN, as the convention requires. */
export function rollingMax(x: Float64Array, w: number, out: Float64Array = new Float64Array(x.length), scratch: Scratch = shared): Float64Array {
  return rollingExtreme(x, w, 1, out, scratch);
}

/** out[t] = min(x[t-w+1..t]). */
export function rollingMin(x: Float64Array, w: number, out: Float64Array = new Float64Array(x.length), scratch: Scratch = shared): Float64Array {
  return rollingExtreme(x, w, -1, out, scratch);
}

/**
 * Window maximum (sign 1) or minimum (sign -1): the maximum of the values times sign, times sign again.
 * Negation is exact and reverses the order (-0 below +0 included), so min(a, b) = -max(-a, -b) bit for
 * bit; prefix and suffix hold the signed values.
 */
function rollingExtreme(x: Float64Array, w: number, sign: 1 | -1, out: Float64Array, scratch: Scratch): Float64Array {
  checkWindow(w);
  const n = x.length;
  const [pre, suf] = scratch.pair(n);
  for (let B = 0; B < n; B += w) {
    const E = Math.min(n, B + w);
    let acc = sign * x[B]!;
    pre[B] = acc;
    for (let i = B + 1; i < E; i++) pre[i] = acc = Math.max(acc, sign * x[i]!);
    acc = sign * x[E - 1]!;
    suf[E - 1] = acc;
    for (let i = E - 2; i >= B; i--) suf[i] = acc = Math.max(sign * x[i]!, acc);
  }
  const lim = Math.min(n, w - 1);
  for (let t = 0; t < lim; t++) out[t] = Number.NaN;
  if (n >= w) out[w - 1] = sign * pre[w - 1]!;
  for (let B = w; B < n; B += w) {
    const E = Math.min(n, B + w - 1);
    const off = 1 - w;
    for (let t = B; t < E; t++) out[t] = sign * Math.max(suf[t + off]!, pre[t]!);
    if (B + w - 1 < n) out[B + w - 1] = sign * pre[B + w - 1]!;
  }
  return out;
}

/**
 * out[t] = bars since the window's maximum (mode 'max') or minimum ('min'): 0 when x[t] is the extreme;
 * ties go to the most recent bar. A monotone deque: comparisons only, so exact by construction.
 */
export function rollingExtremeAge(x: Float64Array, w: number, mode: 'max' | 'min', out: Float64Array = new Float64Array(x.length)): Float64Array {
  checkWindow(w);
  const n = x.length;
  const dq = new Int32Array(n);
  let head = 0;
  let tail = 0;
  let lastNaN = -1;
  const sign = mode === 'max' ? 1 : -1;
  for (let t = 0; t < n; t++) {
    const v = x[t]!;
    if (Number.isNaN(v)) {
      lastNaN = t;
    } else {
      // Drop earlier values that can never again be the (latest) extreme.
      while (tail > head && sign * x[dq[tail - 1]!]! <= sign * v) tail--;
      dq[tail++] = t;
    }
    while (tail > head && dq[head]! <= t - w) head++;
    out[t] = t < w - 1 || lastNaN > t - w ? Number.NaN : t - dq[head]!;
  }
  return out;
}

/**
 * Truncated, renormalised EWMA: out[t] = Σ_{k<W} λ^k x[t-k] / Σ_{k<W} λ^k with λ = 1 - α and W =
 * ewmaWindow(α) unless given. Block scheme with geometric weights: prefix P[t] = x[t] + λ·P[t-1]
 * (restarting at block starts), reversed suffix R[i] = Σ_{j=i..e} λ^{e-j} x[j] (e = block end), window =
 * λ^{t-e}·R[s] + P[t].
 */
export function ewmaMean(x: Float64Array, alpha: number, window?: number, out: Float64Array = new Float64Array(x.length), scratch: Scratch = shared): Float64Array {
  const w = window ?? ewmaWindow(alpha);
  checkWindow(w);
  const n = x.length;
  const lam = 1 - alpha;
  const pw = new Float64Array(w);
  pw[0] = 1;
  for (let k = 1; k < w; k++) pw[k] = pw[k - 1]! * lam;
  let z = 0;
  for (let k = w - 1; k >= 0; k--) z += pw[k]!;
  const [pre, suf] = scratch.pair(n);
  for (let B = 0; B < n; B += w) {
    const E = Math.min(n, B + w);
    let acc = x[B]!;
    pre[B] = acc;
    for (let i = B + 1; i < E; i++) pre[i] = acc = x[i]! + lam * acc;
    // R[i] = λ^{e-i}·x[i] + R[i+1] with e the block end (only complete blocks are ever read).
    const e = B + w - 1;
    acc = x[E - 1]! * pw[e - (E - 1)]!;
    suf[E - 1] = acc;
    for (let i = E - 2; i >= B; i--) suf[i] = acc = pw[e - i]! * x[i]! + acc;
  }
  const lim = Math.min(n, w - 1);
  for (let t = 0; t < lim; t++) out[t] = Number.NaN;
  if (n >= w) out[w - 1] = pre[w - 1]! / z;
  for (let B = w; B < n; B += w) {
    const E1 = Math.min(n, B + w - 1);
    // The window starts in the previous block (which ends at B - 1): weight λ^{t-(B-1)} on its suffix.
    for (let t = B; t < E1; t++) out[t] = (pw[t - B + 1]! * suf[t + 1 - w]! + pre[t]!) / z;
    if (B + w - 1 < n) out[B + w - 1] = pre[B + w - 1]! / z;
  }
  return out;
}

/**
 * Bias-corrected EWMA standard deviation of x (pandas' ewm(...).std() on the truncated weights):
 * var = (m2 - m1²) · Z² / (Z² - Z₂) with Z = Σ w_k and Z₂ = Σ w_k².
 */
export function ewmaStd(x: Float64Array, alpha: number, window?: number, out: Float64Array = new Float64Array(x.length), scratch: Scratch = shared): Float64Array {
  const w = window ?? ewmaWindow(alpha);
  const n = x.length;
  const sq = scratch.extra(0, n);
  for (let i = 0; i < n; i++) sq[i] = x[i]! * x[i]!;
  const m1 = ewmaMean(x, alpha, w, scratch.extra(1, n), scratch);
  const m2 = ewmaMean(sq, alpha, w, sq, scratch);
  const lam = 1 - alpha;
  let z = 0;
  let z2 = 0;
  let p = 1;
  for (let k = 0; k < w; k++) {
    z += p;
    z2 += p * p;
    p *= lam;
  }
  const correction = w > 1 ? (z * z) / (z * z - z2) : Number.NaN;
  for (let t = 0; t < n; t++) {
    const mean = m1[t]!;
    const v = varianceOrZero(m2[t]! - mean * mean, m2[t]!);
    out[t] = Math.sqrt(v * correction);
  }
  return out;
}

/**
 * A variance computed as E[x²] - E[x]² is exactly 0 for a constant window only up to rounding; anything
 * below 1e-12 of E[x²] is that rounding, and is reported as 0 so ratios by it become NaN, not noise.
 */
export function varianceOrZero(v: number, meanSquare: number): number {
  if (Number.isNaN(v)) return v;
  return v <= 1e-12 * Math.abs(meanSquare) ? 0 : v;
}

/** Sample variance (n - 1) of the w values in each window, from rolling sums of x and x². */
export function rollingVariance(x: Float64Array, w: number, out: Float64Array = new Float64Array(x.length), scratch: Scratch = shared): Float64Array {
  const n = x.length;
  const sq = scratch.extra(0, n);
  for (let i = 0; i < n; i++) sq[i] = x[i]! * x[i]!;
  const s1 = rollingSum(x, w, scratch.extra(1, n), scratch);
  const s2 = rollingSum(sq, w, sq, scratch);
  for (let t = 0; t < n; t++) {
    const a = s1[t]!;
    const b = s2[t]!;
    out[t] = w > 1 ? varianceOrZero(b - (a * a) / w, b) / (w - 1) : Number.NaN;
  }
  return out;
}

/** x[t - k] (NaN for t < k). */
export function lag(x: Float64Array, k: number, out: Float64Array = new Float64Array(x.length)): Float64Array {
  const n = x.length;
  for (let t = n - 1; t >= 0; t--) out[t] = t >= k ? x[t - k]! : Number.NaN;
  return out;
}

/** a / b, NaN when b is 0 or not finite: a ratio by a zero volatility or range carries no information. */
export function safeDiv(a: number, b: number): number {
  return b !== 0 && Number.isFinite(b) ? a / b : Number.NaN;
}
