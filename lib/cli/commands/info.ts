/** `tft-native info`: what this build and machine can do. */
import type { Command } from 'commander';

import { capabilities } from '../../runtime.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description("print libtorch version, CUDA availability, threads, BLAS and the kernels' instruction set of this build")
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const c = capabilities();
      if (opts.json) {
        process.stdout.write(JSON.stringify(c, null, 2) + '\n');
        return;
      }
      const rows: [string, string][] = [
        ['libtorch', c.torchVersion],
        [
          'model on CUDA',
          c.torchCudaDevices > 0
            ? `yes (${c.torchCudaDevices} device(s))`
            : c.torchCudaCompiled
              ? 'compiled, no device'
              : 'no (CPU libtorch)',
        ],
        [
          'CUDA rank kernels',
          c.cudaKernelsCompiled
            ? c.cudaKernelDevices > 0
              ? `yes (${c.cudaKernelDevices} device(s))`
              : 'compiled, no device'
            : 'not compiled',
        ],
        ['CUDA status', c.cudaStatus || 'ok'],
        ['threads', `${c.intraOpThreads} of ${c.hardwareThreads} (${c.parallelBackend})`],
        ['BLAS', `${c.blas} [${c.blasLibrary}]`],
        ['CPU', [c.avx2 && 'AVX2', c.avx512 && 'AVX-512', c.avx512Vpopcnt && 'VPOPCNTDQ'].filter(Boolean).join(', ') || 'baseline'],
        ['kernels', `${c.cpuIsa} (this CPU runs: ${c.cpuIsas.join(', ')}; TFT_CPU_ISA selects)`],
      ];
      const w = Math.max(...rows.map((r) => r[0].length));
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
    });
}
