/**
 * Seeded synthetic panels with a known truth: next-day returns depend linearly on a known subset of the
 * features, the rest are noise or near-duplicates, and NaN gaps punch holes in the observed features.
 * The feature selector and the training tests are judged against this truth, so the same seed must give
 * bit-identical output: the random stream is integer arithmetic (xoshiro128**), consumed in a fixed order,
 * and the floating-point steps are sequential (no parallel reductions). Math.log/sin/cos come from V8's
 * fdlibm port, which gives the same bits on every platform a given Node version runs on.
 *
 * Model, for each symbol independently:
 *   f_i(t) = φ_i f_i(t-1) + √(1 - φ_i²) ε_i(t), a unit-variance AR(1) factor (informative and noise alike,
 *            so persistence does not give the informative ones away),
 *   dup_j(t) = f_{k(j)}(t) + 0.1 ε_j(t), a near-duplicate of informative factor k(j) = j mod informative,
 *   r(t+1) = σ_d (Σ_i β_i f_i(t) + √(1 - s²) η(t+1)), with √Σβ_i² = s = signalStrength,
 *   p(t+1) = p(t) (1 + r(t+1)).
 * The informative factors are independent with unit variance, so the signal has standard deviation s and
 * the population R² of the next-day return on the informative features is s².
 * Feature names are f000, f001, … in an order shuffled by the seed: neither name nor position reveals a role.
 */
import { InvalidArgumentError } from '../errors.js';
import type { FeaturePanel } from './feature-builder.js';
import type { PricePanel } from './price-panel.js';
import { Xoshiro128 } from '../random/prng.js';

export interface SyntheticOptions {
  /** Any integer; the same seed gives bit-identical output. */
  seed: number;
  symbols?: number;
  days?: number;
  /** Features the next-day return depends on. */
  informative?: number;
  /** Features independent of everything else. */
  noise?: number;
  /** Near-duplicates of informative features (informative + small noise). */
  duplicates?: number;
  /** Expected fraction of NaN in the observed features, in runs of mean length 5. */
  nanRate?: number;
  /** Correlation between the true signal and the next-day return, in [0, 1). */
  signalStrength?: number;
}

export interface SyntheticTruth {
  informative: string[];
  /** duplicate name → the informative feature it copies. */
  duplicates: Record<string, string>;
  noise: string[];
  /** β of each informative feature in r(t+1) = σ_d (Σ β_i f_i(t) + noise). */
  coefficients: Record<string, number>;
  /** AR(1) coefficient φ of each informative and noise feature. */
  persistence: Record<string, number>;
  /** σ_d, the daily return volatility. */
  dailyVol: number;
}

export interface SyntheticDataset {
  panel: PricePanel;
  features: FeaturePanel;
  truth: SyntheticTruth;
}

/** Daily volatility of the synthetic returns (≈ 16% a year). */
const DAILY_VOL = 0.01;
const DUPLICATE_NOISE = 0.1;
const GAP_MEAN_LENGTH = 5;

function checkCount(v: number, name: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${v}`, name);
}

/** Weekdays from 2000-01-03, ISO. */
function businessDays(n: number): string[] {
  const out: string[] = [];
  let ms = Date.UTC(2000, 0, 3);
  while (out.length < n) {
    const wd = new Date(ms).getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(new Date(ms).toISOString().slice(0, 10));
    ms += 86_400_000;
  }
  return out;
}

export function syntheticDataset(opts: SyntheticOptions): SyntheticDataset {
  const S = opts.symbols ?? 10;
  const D = opts.days ?? 1000;
  const nInf = opts.informative ?? 5;
  const nNoise = opts.noise ?? 10;
  const nDup = opts.duplicates ?? 3;
  const nanRate = opts.nanRate ?? 0.02;
  const strength = opts.signalStrength ?? 0.2;
  checkCount(S, 'symbols', 1);
  checkCount(D, 'days', 2);
  checkCount(nInf, 'informative', 0);
  checkCount(nNoise, 'noise', 0);
  checkCount(nDup, 'duplicates', 0);
  if (nDup > 0 && nInf === 0) throw new InvalidArgumentError('duplicates need at least one informative feature to copy', 'duplicates');
  if (nInf + nNoise + nDup === 0) throw new InvalidArgumentError('at least one feature is required', 'informative');
  if (!(nanRate >= 0 && nanRate < 1)) throw new InvalidArgumentError(`nanRate must be in [0, 1), got ${nanRate}`, 'nanRate');
  if (!(strength >= 0 && strength < 1)) throw new InvalidArgumentError(`signalStrength must be in [0, 1), got ${strength}`, 'signalStrength');

  const rng = new Xoshiro128(opts.seed);
  const F = nInf + nNoise + nDup;
  const width = Math.max(3, String(F - 1).length);
  // Column k gets role order[k]: 0..nInf-1 informative, then noise, then duplicates.
  const order = Array.from({ length: F }, (_, i) => i);
  for (let i = F - 1; i > 0; i--) {
    const j = rng.nextUint32() % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const names = Array.from({ length: F }, (_, k) => `f${String(k).padStart(width, '0')}`);
  const columnOfRole = new Int32Array(F);
  order.forEach((role, col) => (columnOfRole[role] = col));
  const nameOfRole = (role: number): string => names[columnOfRole[role]!]!;

  const nAr = nInf + nNoise;
  const phi = new Float64Array(nAr);
  for (let i = 0; i < nAr; i++) phi[i] = 0.6 + 0.37 * rng.uniform();
  const beta = new Float64Array(nInf);
  let norm = 0;
  for (let i = 0; i < nInf; i++) {
    beta[i] = (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform());
    norm += beta[i]! * beta[i]!;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < nInf; i++) beta[i] = norm > 0 ? (beta[i]! * strength) / norm : 0;
  const eta = Math.sqrt(1 - strength * strength);

  const close = new Float64Array(S * D);
  const values = new Float32Array(S * D * F);
  const factor = new Float64Array(nAr);
  const inGap = new Uint8Array(F);
  const gapStart = nanRate > 0 ? nanRate / (GAP_MEAN_LENGTH * (1 - nanRate)) : 0;
  const gapContinue = 1 - 1 / GAP_MEAN_LENGTH;

  for (let s = 0; s < S; s++) {
    for (let i = 0; i < nAr; i++) factor[i] = rng.normal();
    inGap.fill(0);
    let p = 100 * Math.exp(0.2 * rng.normal());
    for (let t = 0; t < D; t++) {
      if (t > 0) {
        for (let i = 0; i < nAr; i++) factor[i] = phi[i]! * factor[i]! + Math.sqrt(1 - phi[i]! * phi[i]!) * rng.normal();
      }
      close[s * D + t] = p;
      const row = (s * D + t) * F;
      for (let role = 0; role < F; role++) {
        let v: number;
        if (role < nAr) v = factor[role]!;
        else v = factor[(role - nAr) % nInf]! + DUPLICATE_NOISE * rng.normal();
        const gap = inGap[role] ? rng.uniform() < gapContinue : rng.uniform() < gapStart;
        inGap[role] = gap ? 1 : 0;
        values[row + columnOfRole[role]!] = gap ? Number.NaN : v;
      }
      // The return from t to t + 1 depends on the factors observed at t: what a model at t can know.
      let signal = 0;
      for (let i = 0; i < nInf; i++) signal += beta[i]! * factor[i]!;
      const r = DAILY_VOL * (signal + eta * rng.normal());
      p *= 1 + r;
    }
  }

  const informative = Array.from({ length: nInf }, (_, i) => nameOfRole(i));
  const noise = Array.from({ length: nNoise }, (_, i) => nameOfRole(nInf + i));
  const duplicates: Record<string, string> = {};
  for (let j = 0; j < nDup; j++) duplicates[nameOfRole(nAr + j)] = nameOfRole(j % nInf);
  const coefficients: Record<string, number> = {};
  informative.forEach((n, i) => (coefficients[n] = beta[i]!));
  const persistence: Record<string, number> = {};
  for (let i = 0; i < nAr; i++) persistence[nameOfRole(i)] = phi[i]!;

  const symbols = Array.from({ length: S }, (_, s) => `SYN${String(s).padStart(3, '0')}`);
  const dates = businessDays(D);
  const panel: PricePanel = {
    symbols,
    dates,
    close,
    listed: new Uint8Array(S * D).fill(1),
    filled: new Uint8Array(S * D),
    hasOhlcv: false,
  };
  const features: FeaturePanel = {
    symbols: symbols.slice(),
    dates: dates.slice(),
    names,
    groups: names.map(() => 'synthetic'),
    // Observed at t, read nothing older: the generator's features have no lookback.
    lookbacks: new Int32Array(F),
    values,
    maxLookback: 0,
  };
  return { panel, features, truth: { informative, duplicates, noise, coefficients, persistence, dailyVol: DAILY_VOL } };
}
