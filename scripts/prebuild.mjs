#!/usr/bin/env node
// `npm run build:prebuild`: builds prebuilds/<platform>-<arch>/ with prebuildify, which drives node-gyp over
// binding.gyp (the same sources and flags as the cmake-js build, via scripts/native-config.cjs).
//  * It builds in a scratch copy of the package, because node-gyp owns and wipes build/, where the cmake-js
//    development build (and the C++ tests) live.
//  * TFT_NATIVE_PORTABLE=1 keeps the build machine's libtorch path out of the binary (no rpath): users point
//    the loader at their libtorch through the system library path or LD_LIBRARY_PATH.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const scratch = mkdtempSync(path.join(tmpdir(), 'tft-prebuild-'));
for (const entry of ['package.json', 'binding.gyp', 'native', 'scripts/native-config.cjs']) {
  cpSync(path.join(root, entry), path.join(scratch, entry), { recursive: true });
}
cpSync(path.join(root, 'node_modules', 'node-addon-api'), path.join(scratch, 'node_modules', 'node-addon-api'), {
  recursive: true,
});

const env = {
  ...process.env,
  TFT_NATIVE_PORTABLE: '1',
  // node-gyp runs make with -j$JOBS; the default is one compile at a time.
  JOBS: process.env.JOBS ?? String(availableParallelism()),
  // prebuildify runs `node-gyp` from PATH; the scratch copy has no node_modules/.bin of its own.
  PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
};
// Build against this Node's own headers when they are installed (offline machines cannot download them).
const headers = path.resolve(path.dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(path.join(headers, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = headers;
}
const bin = path.join(path.dirname(require.resolve('prebuildify/package.json')), 'bin.js');
const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '--target', process.version], {
  cwd: scratch,
  env,
  stdio: 'inherit',
});
if (r.status === 0) {
  rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
  cpSync(path.join(scratch, 'prebuilds'), path.join(root, 'prebuilds'), { recursive: true });
  process.stdout.write(`tft-native: prebuilds written to ${path.relative(process.cwd(), path.join(root, 'prebuilds')) || 'prebuilds'}\n`);
}
rmSync(scratch, { recursive: true, force: true });
process.exit(r.status ?? 1);
