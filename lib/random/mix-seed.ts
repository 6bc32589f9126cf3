/**
 * Seeds for independent random streams derived from one user seed: mixSeed(runSeed, fold, epoch, stream)
 * gives every (fold, epoch, purpose) its own well-spread 32-bit seed, where sums and products of small
 * integers would make neighbouring streams collide or correlate (seed 1 of fold 2 = seed 2 of fold 1).
 */
import { InvalidArgumentError } from '../errors.js';

const TWO_32 = 4294967296;

/** The splitmix32 / murmur3 finaliser: a bijection of 32-bit words in which every input bit flips about half the output bits. */
export function fmix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A 32-bit unsigned seed from integer parts, order-sensitive (mixSeed(1, 2) ≠ mixSeed(2, 1)) and
 * deterministic across platforms. Each part (any safe integer, negative included) is split into its low
 * and high 32-bit words; each word is added to the running hash with the golden-ratio increment of
 * splitmix32 and the sum finalised, so the hash after a part depends on every bit of it and of the parts
 * before it. mixSeed() with no parts is a fixed constant.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x6a09e667; // an arbitrary non-zero start (the fractional bits of √2)
  for (const p of parts) {
    if (!Number.isSafeInteger(p)) throw new InvalidArgumentError(`seed parts must be safe integers, got ${p}`, 'seed');
    const lo = p >>> 0;
    const hi = Math.floor(p / TWO_32) >>> 0;
    h = fmix32(h + 0x9e3779b9 + lo);
    h = fmix32(h + 0x9e3779b9 + hi);
  }
  return h;
}
