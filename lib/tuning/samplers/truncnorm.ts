/**
 * The normal-distribution numerics TPE needs, accurate to double precision in the tails: erf/erfc,
 * log Φ, the log Gaussian mass of an interval, and the truncated normal's inverse CDF and log density.
 * The interval mass is computed in log space on the side away from the mode, as Optuna does, so kernels
 * truncated far in a tail keep their relative weights.
 */
const SQRT1_2 = Math.SQRT1_2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erf(x) for |x| ≤ 2 by its everywhere-positive series e^{−x²} Σ 2ⁿx^{2n+1}/(2n+1)!!, so no cancellation. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x ≥ 2 by its continued fraction (modified Lentz). */
function erfcContinuedFraction(x: number): number {
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = x + an * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + an / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) return 1 - erfSeries(x);
  if (x > 27.3) return 0;
  return erfcContinuedFraction(x);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (Math.abs(x) < 2) return x < 0 ? -erfSeries(-x) : erfSeries(x);
  return x < 0 ? erfc(-x) - 1 : 1 - erfc(x);
}

/** Φ(a), the standard normal CDF. */
export function ndtr(a: number): number {
  return 0.5 * erfc(-a * SQRT1_2);
}

/** log Φ(a), accurate for a ≪ 0 (asymptotic series below −20). */
export function logNdtr(a: number): number {
  if (a > 6) return -ndtr(-a);
  if (a > -20) return Math.log(ndtr(a));
  const logLhs = -0.5 * a * a - Math.log(-a) - LOG_SQRT_2PI;
  let last = 0;
  let rhs = 1;
  let numerator = 1;
  let denom = 1;
  const inv = 1 / (a * a);
  let sign = 1;
  for (let i = 1; Math.abs(last - rhs) > Number.EPSILON && i < 100; i++) {
    last = rhs;
    sign = -sign;
    denom *= inv;
    numerator *= 2 * i - 1;
    rhs += sign * numerator * denom;
  }
  return logLhs + Math.log(rhs);
}

const logDiff = (logP: number, logQ: number) => logP + Math.log1p(-Math.exp(logQ - logP));
const logSum = (a: number, b: number) => {
  const m = Math.max(a, b);
  return m === -Infinity ? -Infinity : m + Math.log(Math.exp(a - m) + Math.exp(b - m));
};

/** log P(a < Z < b) for a standard normal Z. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** The x with log Φ(x) = y, by bisection on [−100, 100] (log Φ is monotone; 64 halvings reach double precision). */
function ndtriExp(y: number): number {
  let lo = -100;
  let hi = 100;
  for (let i = 0; i < 64; i++) {
    const m = 0.5 * (lo + hi);
    if (logNdtr(m) < y) lo = m;
    else hi = m;
  }
  return 0.5 * (lo + hi);
}

/** Inverse CDF of the standard normal truncated to [a, b], at q ∈ [0, 1]. */
export function truncnormPpf(q: number, a: number, b: number): number {
  if (a === b) return Number.NaN;
  if (q === 0) return a;
  if (q === 1) return b;
  if (a < 0) return ndtriExp(logSum(logNdtr(a), Math.log(q) + logGaussMass(a, b)));
  return -ndtriExp(logSum(logNdtr(-b), Math.log1p(-q) + logGaussMass(a, b)));
}

/** log N(z; 0, 1). */
export function normLogPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}
