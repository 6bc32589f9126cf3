/**
 * The package as users get it: `npm pack` (carrying the prebuild), installed into a fresh project, loads
 * from prebuilds/ without compiling anything, and its CLI runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let project = '';

beforeAll(() => {
  const prebuild = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(prebuild) || readdirSync(prebuild).length === 0) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/prebuild.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }
  if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) execFileSync(npm, ['run', 'build:ts'], { cwd: ROOT, stdio: 'inherit' });
  const packDir = mkdtempSync(path.join(tmpdir(), 'tft-pack-'));
  const out = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: ROOT, encoding: 'utf8' });
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  const files = info!.files.map((f) => f.path);
  expect(files.some((f) => f.startsWith('prebuilds/') && f.endsWith('.node'))).toBe(true);
  expect(files.some((f) => f.startsWith('build/'))).toBe(false);
  project = mkdtempSync(path.join(tmpdir(), 'tft-consumer-'));
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(packDir, info!.filename)], {
    cwd: project,
    stdio: 'inherit',
    env: { ...process.env, npm_config_build_from_source: 'false' },
  });
}, 600_000);

describe('packed tarball installed into a fresh project', () => {
  it('installs without compiling (no build/ folder) and loads the prebuild', () => {
    const pkg = path.join(project, 'node_modules', 'tft-native');
    expect(existsSync(path.join(pkg, 'prebuilds'))).toBe(true);
    expect(existsSync(path.join(pkg, 'build'))).toBe(false);
    // Runs in a child process inside the consumer project, as a user's code would; it prints what it found
    // as one JSON line on its stdout for this test to parse.
    const childScript = `
      import { kendallTau, capabilities } from 'tft-native';
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const where = require('node-gyp-build').resolve(${JSON.stringify(pkg)});
      console.log(JSON.stringify({ where, tau: kendallTau([1, 2, 3, 4], [1, 3, 2, 4]), torch: capabilities().torchVersion }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', childScript], { cwd: project, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const res = JSON.parse(r.stdout) as { where: string; tau: number; torch: string };
    expect(res.where).toContain(`${path.sep}prebuilds${path.sep}`);
    expect(res.tau).toBeCloseTo(2 / 3, 12);
    expect(res.torch).toMatch(/^\d+\.\d+/);
  });
  it('exposes the tft-native command', () => {
    const r = spawnSync(path.join(project, 'node_modules', '.bin', 'tft-native'), ['info', '--json'], { cwd: project, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).torchVersion).toMatch(/^\d+\.\d+/);
  });
});
