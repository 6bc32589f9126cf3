import { mulberry32 } from './random.js';

export { mulberry32 };

/**
 * O(n²) textbook definitions of the rank statistics, written independently of the native kernels, for
 * property tests. Pairs use the features present in both rankings (NaN = absent).
 */

function common(a: ArrayLike<number>, b: ArrayLike<number>): [number[], number[]] {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (!Number.isNaN(a[i]!) && !Number.isNaN(b[i]!)) {
      x.push(a[i]!);
      y.push(b[i]!);
    }
  }
  return [x, y];
}

export function naiveKendall(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const [x, y] = common(a, b);
  const L = x.length;
  if (L < 2) return Number.NaN;
  let cmd = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < L; i++) {
    for (let j = i + 1; j < L; j++) {
      const sx = Math.sign(x[i]! - x[j]!);
      const sy = Math.sign(y[i]! - y[j]!);
      cmd += sx * sy;
      if (sx === 0) tx++;
      if (sy === 0) ty++;
    }
  }
  const n0 = (L * (L - 1)) / 2;
  if (tx === n0 || ty === n0) return Number.NaN;
  return cmd / Math.sqrt(n0 - tx) / Math.sqrt(n0 - ty);
}

function averageRanks(x: number[]): number[] {
  return x.map((v) => {
    let less = 0;
    let equal = 0;
    for (const w of x) {
      if (w < v) less++;
      if (w === v) equal++;
    }
    return 1 + less + (equal - 1) / 2;
  });
}

export function naiveSpearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const [x, y] = common(a, b);
  if (x.length < 2) return Number.NaN;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const mean = (x.length + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (rx[i]! - mean) * (ry[i]! - mean);
    sxx += (rx[i]! - mean) ** 2;
    syy += (ry[i]! - mean) ** 2;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** One half of scipy's weightedtau: elements weighted 1/(1+r), r = rank in decreasing (x, y) order. */
function weightedHalf(x: number[], y: number[]): number {
  const L = x.length;
  const perm = [...x.keys()].sort((i, j) => (x[i] !== x[j] ? x[i]! - x[j]! : y[i]! - y[j]!) || i - j);
  const w = new Array<number>(L);
  perm.forEach((p, q) => (w[p] = 1 / (1 + (L - 1 - q))));
  let tot = 0;
  let u = 0;
  let v = 0;
  let t = 0;
  let ex = 0;
  let xConst = true;
  let yConst = true;
  for (let i = 0; i < L; i++) {
    for (let j = i + 1; j < L; j++) {
      const wij = w[i]! + w[j]!;
      tot += wij;
      const tx = x[i] === x[j];
      const ty = y[i] === y[j];
      if (tx) u += wij;
      else xConst = false;
      if (ty) v += wij;
      else yConst = false;
      if (tx && ty) t += wij;
      if ((x[i]! - x[j]!) * (y[i]! - y[j]!) < 0) ex += wij;
    }
  }
  if (xConst || yConst) return Number.NaN;
  return Math.min(1, Math.max(-1, (tot - (v + u - t) - 2 * ex) / Math.sqrt(tot - u) / Math.sqrt(tot - v)));
}

export function naiveWeightedTau(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const [x, y] = common(a, b);
  if (x.length < 2) return Number.NaN;
  return (weightedHalf(x, y) + weightedHalf(y, x)) / 2;
}

export function naiveTopKJaccard(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  const idx: number[] = [];
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]!) && !Number.isNaN(b[i]!)) idx.push(i);
  if (idx.length < 2) return Number.NaN;
  const top = (v: ArrayLike<number>) => new Set([...idx].sort((i, j) => v[j]! - v[i]! || i - j).slice(0, k));
  const ta = top(a);
  const tb = top(b);
  let inter = 0;
  for (const i of ta) if (tb.has(i)) inter++;
  return inter / (ta.size + tb.size - inter);
}

export function randomRankings(rng: () => number, m: number, n: number, levels: number, nanP: number): Float64Array {
  const x = new Float64Array(m * n);
  for (let i = 0; i < x.length; i++) {
    x[i] = levels > 0 ? Math.floor(rng() * levels) : rng();
    if (rng() < nanP) x[i] = Number.NaN;
  }
  for (let r = 0; r < m; r++) {
    let any = false;
    for (let c = 0; c < n; c++) any ||= !Number.isNaN(x[r * n + c]!);
    if (!any) x[r * n] = 0.5;
  }
  return x;
}

export function expectClose(actual: number, expected: number, tol: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= tol;
}
