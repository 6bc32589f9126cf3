/** Seeded sampling without replacement, on the product's PRNG. */
import { InvalidArgumentError } from '../errors.js';
import { Xoshiro128 } from './prng.js';

/**
 * `count` distinct integers drawn uniformly from [0, total), ascending. Floyd's algorithm: memory and time
 * grow with `count`, not `total`, so a few hundred pairs can be drawn from millions without listing them.
 */
export function sampleDistinct(total: number, count: number, rng: Xoshiro128): number[] {
  if (!Number.isInteger(count) || count < 0 || count > total) {
    throw new InvalidArgumentError(`count must be an integer in [0, ${total}], got ${count}`, 'count');
  }
  const chosen = new Set<number>();
  for (let j = total - count; j < total; j++) {
    const t = rng.below(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}
