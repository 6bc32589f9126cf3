#!/usr/bin/env node
// npm "install" hook. In a project that depends on tft-native: use the prebuild that fits
// (prebuilds/<platform>-<arch>) or compile from source with node-gyp (node-gyp-build does both).
// In a development checkout (a .git folder beside package.json) it does nothing: developers build with
// cmake-js (`npm run build:native`), which also builds the C++ tests.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
if (fs.existsSync(path.join(root, '.git')) && process.env.TFT_NATIVE_FORCE_INSTALL_BUILD !== '1') {
  process.stdout.write('tft-native: development checkout; build the addon with `npm run build:native`.\n');
  process.exit(0);
}
const bin = require.resolve('node-gyp-build/bin.js');
const r = spawnSync(process.execPath, [bin], { cwd: root, stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
