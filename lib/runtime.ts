/** What this build and machine can do, and the CPU thread count every native call uses. */
import { InvalidArgumentError } from './errors.js';
import type { NativeCapabilities } from './native/addon-types.js';
import { loadAddon } from './native/loader.js';

export type Capabilities = NativeCapabilities;

/**
 * libtorch version, CUDA (compiled in? devices?) for the model and for the rank kernels, intra-op threads,
 * the BLAS actually answering sgemm, and the CPU's vector extensions.
 */
export function capabilities(): Capabilities {
  return loadAddon().capabilities();
}

/**
 * Sets libtorch's intra-op threads and OpenBLAS's threads together (process-wide). The default is every
 * core (or TFT_NUM_THREADS / OMP_NUM_THREADS when set), since Debian's libtorch starts with one.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`n: thread count must be an integer >= 1, got ${n}`, 'n');
  loadAddon().setNumThreads(n);
}

export function getNumThreads(): number {
  return loadAddon().getNumThreads();
}

/**
 * Measures the BLAS's single-precision GEMM rate (GFLOP/s) on n×n matrices at the current thread count:
 * the physical limit to compare the model's achieved FLOP rate against. Blocks while it runs.
 */
export function measureSgemmGflops(n = 1024, reps = 10): number {
  return loadAddon().measureSgemmGflops(n, reps);
}
