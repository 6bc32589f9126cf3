/**
 * Finds and loads tft_native.node once per environment (main thread or worker): a local build
 * (build/Release, from `npm run build:native`) or the package's prebuild (prebuilds/<platform>-<arch>),
 * through node-gyp-build. A failure never surfaces as a bare dlopen error: it is classified and turned
 * into an AddonLoadError that says what to install or set.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { AddonLoadError, makeError } from '../errors.js';
import type { NativeAddon } from './addon-types.js';
import { chooseOpenBlasCore } from './openblas.js';

const require = createRequire(import.meta.url);

/** The package root: this file lives in lib/native (sources) or dist/native (compiled), two levels down. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: NativeAddon | undefined;

export function explainLoadFailure(message: string): string {
  const hints: string[] = [];
  if (/No native build was found/i.test(message)) {
    hints.push(
      'No compiled addon matches this platform. Build it from source: `npm run build:native` in a checkout, ' +
        'or `npm rebuild tft-native` in a project that depends on it (needs libtorch, cmake and a C++17 compiler).',
    );
  }
  if (/lib(torch|torch_cpu|c10|torch_cuda|c10_cuda)\.so/.test(message)) {
    hints.push(
      'libtorch is missing at run time. Install it (Debian/Ubuntu: `sudo apt-get install -y libtorch-dev ' +
        'libopenblas0-openmp`), or point the loader at your libtorch: `export LD_LIBRARY_PATH=/path/to/libtorch/lib` ' +
        '(for a pip PyTorch: the `lib` folder next to `torch/__init__.py`).',
    );
  }
  if (/lib(open)?blas|libgomp|libcudart/.test(message)) {
    hints.push(
      'A library libtorch needs is missing: install OpenBLAS and OpenMP (`sudo apt-get install -y libopenblas0-openmp libgomp1`).',
    );
  }
  if (/GLIBCXX_|CXXABI_|undefined symbol: _ZN.*(cxx11|St7__cxx11)|undefined symbol/.test(message)) {
    hints.push(
      'The addon and the libtorch it found disagree on the C++ ABI or version (an undefined or versioned symbol). ' +
        'Rebuild against the libtorch you run with (`npm run build:native`, or LIBTORCH=/path/to/libtorch npm rebuild ' +
        'tft-native), and make sure LD_LIBRARY_PATH does not pick up a different libtorch.',
    );
  }
  if (/ELF|wrong ELF class|invalid ELF header/.test(message)) {
    hints.push('The binary was built for another platform or architecture; rebuild from source on this machine.');
  }
  if (hints.length === 0) hints.push('Rebuild the addon (`npm run build:native`) and check `ldd` on the .node file.');
  return `tft-native: the native addon could not be loaded.\n  cause: ${message.split('\n')[0]}\n  fix:   ${hints.join('\n  fix:   ')}`;
}

/** Loads the addon found under `root` (a package folder); no caching. Exposed for tests and tools. */
export function loadAddonFrom(root: string): NativeAddon {
  let addon: NativeAddon;
  chooseOpenBlasCore(); // before libtorch (and with it OpenBLAS) is loaded
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    addon = nodeGypBuild(root) as NativeAddon;
  } catch (err) {
    throw new AddonLoadError(explainLoadFailure(err instanceof Error ? err.message : String(err)), { cause: err });
  }
  addon.init(makeError);
  addon.getCpuIsa(); // validates TFT_CPU_ISA now: a bad value fails the load with an InvalidArgumentError
  return addon;
}

/** The addon of this package, loaded once per environment (main thread or worker). */
export function loadAddon(): NativeAddon {
  cached ??= loadAddonFrom(PACKAGE_ROOT);
  return cached;
}
