/**
 * Causal X-Trend context sets outside the trainer (serving, explaining a checkpoint). A target window that
 * starts on day s gets nContext sequences of `len` days with finite features, of any asset, whose last day
 * lies in the pool [s − poolDays, s − 1]: nothing the window could not have seen, and a bounded read of
 * history. Slot k of the set is candidate splitmix64(seed, key, k) mod n of the pool's n candidates, ordered
 * by (last day, asset) — the trainer's own rule (native/core/train/trainer.cpp), so with an unbounded pool
 * the draw equals the trainer's `sampleContext`. The draw depends on the seed, the key and the pool only,
 * never on batching, threads or where the read of the prices began; serving keys it by the date.
 */
import { DataError, InvalidArgumentError } from '../errors.js';

export interface ContextSpec {
  /** Days per context sequence. */
  len: number;
  /** How many trading days before a window's first day its context sequences may end in. */
  poolDays: number;
  /** The seed of the draw (training's trainer seed for checkpoints it wrote). */
  seed: number;
}

export interface ContextPanel {
  /** Normalised features [assets, days, features]. */
  values: Float32Array;
  assets: number;
  days: number;
  features: number;
}

export interface ContextSet {
  /** [nContext, len, features]. */
  values: Float32Array;
  /** The panel asset of each sequence [nContext]. */
  assets: Int32Array;
  /** The last day (panel index) of each sequence [nContext]. */
  lastDays: Int32Array;
}

const M64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

/** The trainer's slot hash: splitmix64 of seed ^ key_a·φ ^ key_b·c ^ (slot + 1)·c'. */
export function contextSlotHash(seed: bigint, keyA: bigint, keyB: bigint, slot: number): bigint {
  let z = (seed ^ ((keyA * GOLDEN) & M64) ^ ((keyB * 0xc2b2ae3d27d4eb4fn) & M64) ^ ((BigInt(slot + 1) * 0x165667b19e3779f9n) & M64)) & M64;
  z = (z + GOLDEN) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

/** An integer as the trainer's uint64 (negative numbers wrap, as a C++ cast does). */
const u64 = (x: number): bigint => BigInt.asUintN(64, BigInt(x));

/** A date's key: YYYYMMDD as an integer, so a date draws the same set whatever else was read. */
export function dateKey(date: string): number {
  return Number(date.slice(0, 4)) * 10000 + Number(date.slice(5, 7)) * 100 + Number(date.slice(8, 10));
}

export class ContextSampler {
  readonly spec: ContextSpec;
  readonly nContext: number;
  readonly #panel: ContextPanel;
  /** Candidate (asset, last day) pairs, sorted by (last day, asset). */
  readonly #assets: Int32Array;
  readonly #lastDays: Int32Array;
  /** #byDay[t] = index of the first candidate whose last day is >= t (t in [0, days]). */
  readonly #byDay: Int32Array;

  constructor(panel: ContextPanel, nContext: number, spec: ContextSpec) {
    const { assets: A, days: D, features: F } = panel;
    if (panel.values.length !== A * D * F)
      throw new InvalidArgumentError(`context: ${panel.values.length} values is not assets × days × features = ${A * D * F}`, 'context');
    if (!Number.isInteger(nContext) || nContext < 1)
      throw new InvalidArgumentError(`nContext: must be an integer >= 1, got ${nContext}`, 'nContext');
    if (!Number.isInteger(spec.len) || spec.len < 1)
      throw new InvalidArgumentError(`context.len: must be an integer >= 1, got ${spec.len}`, 'context');
    if (!(spec.poolDays >= 1)) throw new InvalidArgumentError(`context.poolDays: must be >= 1, got ${spec.poolDays}`, 'context');
    if (!Number.isSafeInteger(spec.seed))
      throw new InvalidArgumentError(`context.seed: must be a safe integer, got ${spec.seed}`, 'context');
    this.spec = spec;
    this.nContext = nContext;
    this.#panel = panel;
    const assets: number[] = [];
    const lastDays: number[] = [];
    const byDay = new Int32Array(D + 1);
    const run = finiteRuns(panel.values, A, D, F);
    for (let t = 0; t < D; t++) {
      byDay[t] = assets.length;
      for (let a = 0; a < A; a++) {
        if (run[a * D + t]! >= spec.len) {
          assets.push(a);
          lastDays.push(t);
        }
      }
    }
    byDay[D] = assets.length;
    this.#assets = Int32Array.from(assets);
    this.#lastDays = Int32Array.from(lastDays);
    this.#byDay = byDay;
  }

  /** How many candidate sequences a window starting on `firstDay` may draw from. */
  poolSize(firstDay: number): number {
    const [lo, hi] = this.#pool(firstDay);
    return hi - lo;
  }

  /** The context set of a window starting on `firstDay`, drawn with `key` (serving: dateKey of its last day). */
  sample(firstDay: number, key: number): ContextSet {
    const [lo, hi] = this.#pool(firstDay);
    const n = hi - lo;
    const { len: L } = this.spec;
    if (n === 0)
      throw new DataError(
        `context: no ${L}-day sequence with finite features ends in the ${this.spec.poolDays} days before day ${firstDay}`,
        'context',
      );
    const { values, days: D, features: F } = this.#panel;
    const C = this.nContext;
    const out: ContextSet = { values: new Float32Array(C * L * F), assets: new Int32Array(C), lastDays: new Int32Array(C) };
    const seed = u64(this.spec.seed);
    const keyA = u64(key);
    for (let k = 0; k < C; k++) {
      const i = lo + Number(contextSlotHash(seed, keyA, M64, k) % BigInt(n));
      const a = this.#assets[i]!;
      const last = this.#lastDays[i]!;
      out.values.set(values.subarray((a * D + last - L + 1) * F, (a * D + last + 1) * F), k * L * F);
      out.assets[k] = a;
      out.lastDays[k] = last;
    }
    return out;
  }

  #pool(firstDay: number): [number, number] {
    const D = this.#panel.days;
    const end = Math.min(Math.max(firstDay, 0), D);
    const start = Math.max(0, Math.min(end, firstDay - this.spec.poolDays));
    return [this.#byDay[start]!, this.#byDay[end]!];
  }
}

/** Per (asset, day) of an [assets, days, features] panel: how many days in a row up to and including it have only finite features. */
export function finiteRuns(values: Float32Array, A: number, D: number, F: number): Int32Array {
  const run = new Int32Array(A * D);
  for (let a = 0; a < A; a++)
    for (let t = 0; t < D; t++) run[a * D + t] = rowFinite(values, (a * D + t) * F, F) ? (t > 0 ? run[a * D + t - 1]! : 0) + 1 : 0;
  return run;
}

function rowFinite(v: Float32Array, at: number, F: number): boolean {
  for (let f = 0; f < F; f++) if (!Number.isFinite(v[at + f]!)) return false;
  return true;
}
