/**
 * From the model's outputs to the positions served:
 *
 *   z_t  = clip(raw_t, ±maxPosition)
 *   z_t ← z_t · volTarget / σ_t            when volTarget is set (σ_t the ex-ante EWMA volatility, annualised)
 *   p_t  = s · p_{t−1} + (1 − s) · z_t     smoothing s ∈ [0, 1) (the seed's position_smooth), in date order;
 *                                          it restarts after a day without a position
 *
 * and a confidence in [0, 1]. For a model whose Gaussian head was trained (lossMode joint_mle), from the
 * predicted return distribution N(μ, σ²):
 *
 *   confidence = |2 Φ(μ/σ) − 1| = |P(r > 0) − P(r < 0)|
 *
 * 0 when the model thinks up and down equally likely, → 1 as |μ| ≫ σ. A model trained on the Sharpe loss
 * alone never fits μ and σ, so its confidence is the conviction of its position, |raw| / maxPosition.
 */
export interface PositionSizing {
  maxPosition: number;
  volTarget: number | null;
  smoothing: number;
}

/** Φ(x) via erf (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return 0.5 * (1 + (x >= 0 ? erf : -erf));
}

export function confidenceOf(mu: number, sigma: number): number {
  if (!Number.isFinite(mu) || !(sigma > 0)) return Number.NaN;
  return Math.min(1, Math.abs(2 * normalCdf(mu / sigma) - 1));
}

/**
 * Sized positions [assets, days] from raw ones; `leverage` [assets, days] is volTarget / σ_t (needed only
 * with a volTarget). Days run in order per asset, so the smoothing is causal.
 */
export function sizePositions(raw: Float32Array, assets: number, days: number, s: PositionSizing, leverage?: Float32Array): Float32Array {
  const out = new Float32Array(raw.length).fill(Number.NaN);
  for (let a = 0; a < assets; a++) {
    let prev = Number.NaN;
    for (let t = 0; t < days; t++) {
      const i = a * days + t;
      let z = Math.max(-s.maxPosition, Math.min(s.maxPosition, raw[i]!));
      if (s.volTarget !== null) z *= leverage ? leverage[i]! : Number.NaN;
      if (!Number.isFinite(z)) {
        prev = Number.NaN;
        continue;
      }
      const p = Number.isFinite(prev) && s.smoothing > 0 ? s.smoothing * prev + (1 - s.smoothing) * z : z;
      out[i] = p;
      prev = p;
    }
  }
  return out;
}

/** Days of warm-up after which a smoothing restart no longer shows: s^k < 1e-7. */
export function smoothingWarmup(smoothing: number): number {
  return smoothing > 0 ? Math.ceil(Math.log(1e-7) / Math.log(smoothing)) : 0;
}

/** |raw| / maxPosition, for models without a trained Gaussian head. */
export function convictionOf(raw: number, maxPosition: number): number {
  return Number.isFinite(raw) ? Math.min(1, Math.abs(raw) / maxPosition) : Number.NaN;
}
