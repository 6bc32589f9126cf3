/**
 * The line every benchmark prints first: which CPU, which kernel path (TFT_CPU_ISA forces one), which BLAS
 * and how many threads, so a figure can always be traced to what produced it.
 */
import { readFileSync } from 'node:fs';

import { capabilities } from '../lib/index.js';

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line ? line.slice(line.indexOf(':') + 1).trim() : 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

export function machineLine(): string {
  const c = capabilities();
  const blasCore = /(Haswell|SkylakeX|Cooperlake|Zen|Prescott|Sandybridge|Nehalem|Core2)/.exec(c.blas)?.[1] ?? c.blas;
  return (
    `machine: ${cpuModel()}; kernels ${c.cpuIsa} (CPU supports ${c.cpuIsas.join(', ')}); BLAS ${blasCore}; ` +
    `${c.intraOpThreads} thread(s)`
  );
}

export function printMachine(): void {
  process.stdout.write(`${machineLine()}\n`);
}
