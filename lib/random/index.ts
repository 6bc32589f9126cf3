/** Seeded randomness: the PRNG, seed mixing for independent streams, sampling without replacement. */
export { Xoshiro128 } from './prng.js';
export { mixSeed } from './mix-seed.js';
export { sampleDistinct } from './sampling.js';
