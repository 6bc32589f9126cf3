/**
 * Starts loading the native core on a worker thread, so that a fresh process's longest single wait —
 * the dynamic linker loading libtorch and its libraries (about a second for Debian's libtorch, which
 * links OpenCV, FFmpeg and GDAL: ~290 shared objects) — overlaps with compiling the JavaScript modules on
 * the main thread. The shared objects stay loaded for the process, so the main thread's own load of the
 * addon (loadAddon) then only registers it. A failure here is ignored: the main thread's load reports it.
 *
 * For short-lived processes that will need the core (the CLI's commands); a library import does not
 * call it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

import { PACKAGE_ROOT } from './loader.js';
import { chooseOpenBlasCore } from './openblas.js';

const require = createRequire(import.meta.url);
let started = false;

export function preloadNativeCore(): void {
  if (started) return;
  started = true;
  chooseOpenBlasCore(); // OpenBLAS reads it once, when the worker's load brings it in
  const worker = new Worker(`require(${JSON.stringify(require.resolve('node-gyp-build'))})(${JSON.stringify(PACKAGE_ROOT)});`, {
    eval: true,
    stdout: true,
    stderr: true,
  });
  worker.on('error', () => undefined);
  worker.unref();
}
