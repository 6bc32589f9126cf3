/**
 * Out-of-sample strategy metrics from positions and realised returns: the equal-weight portfolio of
 * volatility-scaled positions, as in Deep Momentum Networks / X-Trend.
 *
 *   R_t = mean over assets with a position and a return of ( z_{a,t} y_{a,t} − c |z_{a,t} s_{a,t} − z_{a,t−1} s_{a,t−1}| )
 *
 * where y is the volatility-scaled next-day return (the label at t), s = σ_target / σ_t the leverage and c
 * the cost per unit of turnover. Sharpe = √252 · mean(R) / std(R) (sample std), total return compounds R,
 * max drawdown is the largest peak-to-trough fall of the compounded curve (a positive fraction), turnover is
 * the mean daily |Δ(z·s)| per asset.
 */
import { ANNUALIZATION, SQRT_252 } from '../data/annualization.js';

export interface StrategyMetrics {
  sharpe: number;
  totalReturn: number;
  maxDrawdown: number;
  turnover: number;
  annualReturn: number;
  annualVolatility: number;
  days: number;
  /** Daily portfolio returns over the range (NaN-free; days without any position are skipped). */
  returns: Float64Array;
}

export interface BacktestInput {
  /** [assets, days] positions (NaN where none). */
  position: Float32Array;
  /** [assets, days] labels: volatility-scaled return from day t to t+1. */
  target: Float32Array;
  /** [assets, days] leverage σ_target / σ_t (for costs and turnover); 1 when absent. */
  scale?: Float32Array;
  assets: number;
  days: number;
  /** Inclusive day range evaluated. */
  start: number;
  end: number;
  costBps?: number;
}

export function backtest(i: BacktestInput): StrategyMetrics {
  const { assets: A, days: D } = i;
  const cost = (i.costBps ?? 0) * 1e-4;
  const daily: number[] = [];
  let turnoverSum = 0;
  let turnoverCount = 0;
  for (let t = i.start; t <= i.end; t++) {
    let sum = 0;
    let n = 0;
    for (let a = 0; a < A; a++) {
      const z = i.position[a * D + t]!;
      const y = i.target[a * D + t]!;
      if (!Number.isFinite(z) || !Number.isFinite(y)) continue;
      const s = i.scale ? i.scale[a * D + t]! : 1;
      let r = z * y;
      const zPrev = t > 0 ? i.position[a * D + t - 1]! : Number.NaN;
      if (Number.isFinite(zPrev) && t > i.start) {
        const sPrev = i.scale ? i.scale[a * D + t - 1]! : 1;
        const dt = Math.abs(z * s - zPrev * sPrev);
        if (Number.isFinite(dt)) {
          r -= cost * dt;
          turnoverSum += dt;
          turnoverCount++;
        }
      }
      sum += r;
      n++;
    }
    if (n > 0) daily.push(sum / n);
  }
  return metricsFromReturns(Float64Array.from(daily), turnoverCount ? turnoverSum / turnoverCount : 0);
}

/** Sharpe, compounded total return, max drawdown and annualised figures of a daily return series. */
export function metricsFromReturns(R: Float64Array, turnover: number): StrategyMetrics {
  const n = R.length;
  const m = n ? R.reduce((a, b) => a + b, 0) / n : Number.NaN;
  const sd = n > 1 ? Math.sqrt(R.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1)) : Number.NaN;
  let equity = 1;
  let peak = 1;
  let mdd = 0;
  for (const r of R) {
    equity *= 1 + r;
    peak = Math.max(peak, equity);
    mdd = Math.max(mdd, 1 - equity / peak);
  }
  return {
    sharpe: sd > 0 ? (SQRT_252 * m) / sd : Number.NaN,
    totalReturn: equity - 1,
    maxDrawdown: mdd,
    turnover,
    annualReturn: m * ANNUALIZATION,
    annualVolatility: sd * SQRT_252,
    days: n,
    returns: R,
  };
}
