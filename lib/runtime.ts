/** What this build and machine can do, and the CPU thread count every native call uses. */
import { InvalidArgumentError } from './errors.js';
import type { NativeCapabilities, NativeCpuIsa } from './native/addon-types.js';
import { loadAddon } from './native/loader.js';

export type Capabilities = NativeCapabilities;

/**
 * libtorch version, CUDA (compiled in? devices?) for the model and for the rank kernels, intra-op threads,
 * the BLAS actually answering sgemm, the CPU's vector extensions and the kernels' active path (cpuIsa).
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

/** The instruction sets the native kernels have a path for. */
export type CpuIsa = NativeCpuIsa;
export const CPU_ISAS: readonly CpuIsa[] = ['scalar', 'avx2', 'avx512', 'neon'];

/**
 * The path the model and rank kernels run on now: the best the CPU supports unless TFT_CPU_ISA (read when
 * the addon loads) or setCpuIsa chose another.
 */
export function cpuIsa(): CpuIsa {
  return loadAddon().getCpuIsa();
}

/** Every path this CPU can run, from scalar to the best. */
export function supportedCpuIsas(): CpuIsa[] {
  return loadAddon().capabilities().cpuIsas;
}

/**
 * Forces the kernels' instruction set for this process ('auto' = the best supported), for tests and
 * benchmarks that compare paths. A path the CPU cannot run is an InvalidArgumentError naming those it can.
 * It applies from the next native kernel call: await pending calls first, or a job that is running may mix
 * two paths (each correct, but the results are then not bit-reproducible).
 */
export function setCpuIsa(isa: CpuIsa | 'auto'): void {
  if (typeof isa !== 'string') throw new InvalidArgumentError(`isa: must be one of auto, ${CPU_ISAS.join(', ')}`, 'isa');
  loadAddon().setCpuIsa(isa);
}

/**
 * Measures the BLAS's single-precision GEMM rate (GFLOP/s) on n×n matrices at the current thread count:
 * the physical limit to compare the model's achieved FLOP rate against. Blocks while it runs.
 */
export function measureSgemmGflops(n = 1024, reps = 10): number {
  return loadAddon().measureSgemmGflops(n, reps);
}
