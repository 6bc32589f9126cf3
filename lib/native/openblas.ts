/**
 * OpenBLAS picks its kernels from the CPU model when it is loaded (with libtorch, when the addon loads).
 * A CPU newer than the installed OpenBLAS — or a VM that reports a generic model — makes it fall back to
 * its "Prescott" SSE3 kernels: sgemm drops from ~250 to ~50 GFLOP/s on the same 2 cores (measured on a
 * VM whose CPU identifies itself only as "Intel Xeon Processor"). OPENBLAS_CORETYPE overrides the choice;
 * when the user has not set it, we set it from the CPU's instruction-set flags before the addon loads, so
 * the kernels match what the CPU can run (or, with TFT_CPU_ISA=avx2, what an AVX2 CPU would run). Nothing
 * changes on CPUs without AVX2, or when the variable is set (set it to your own choice to opt out).
 */
import { readFileSync } from 'node:fs';

/**
 * The OpenBLAS core whose kernels fit these /proc/cpuinfo flags, or undefined to leave the choice to OpenBLAS.
 * `cpuIsa` is TFT_CPU_ISA: forcing the avx2 path also gives OpenBLAS its AVX2 (Haswell) kernels, so a process
 * run that way measures what an AVX2-only machine would, sgemm included.
 */
export function openBlasCoreFor(flags: ReadonlySet<string>, cpuIsa?: string): string | undefined {
  const all = (...f: string[]) => f.every((x) => flags.has(x));
  if (cpuIsa === 'avx2') return all('avx2', 'fma') ? 'Haswell' : undefined;
  if (all('avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd')) return all('avx512_bf16') ? 'Cooperlake' : 'SkylakeX';
  if (all('avx2', 'fma')) return 'Haswell';
  return undefined;
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    return new Set(
      line
        ? line
            .slice(line.indexOf(':') + 1)
            .trim()
            .split(/\s+/)
        : [],
    );
  } catch {
    return new Set();
  }
}

/** Sets OPENBLAS_CORETYPE for this process (and its children) when unset and a fitting core is known. */
export function chooseOpenBlasCore(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OPENBLAS_CORETYPE !== undefined || process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const core = openBlasCoreFor(cpuFlags(), env.TFT_CPU_ISA);
  if (core) env.OPENBLAS_CORETYPE = core;
  return core;
}
