/**
 * One source of truth for the build: scripts/native-config.cjs answers binding.gyp and CMakeLists.txt, and
 * the Node-less CMake fallback (for GPU machines without Node) must resolve to the same thing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const script = path.join(ROOT, 'scripts/native-config.cjs');

function configure(extra: string[]): string {
  const build = mkdtempSync(path.join(tmpdir(), 'tft-cmake-'));
  execFileSync('cmake', ['-S', ROOT, '-B', build, '-DTFT_BUILD_ADDON=OFF', '-DTFT_BUILD_TESTS=OFF', '-DTFT_BUILD_BENCH=OFF', ...extra], {
    stdio: 'pipe',
  });
  return readFileSync(path.join(build, 'native-config-summary.txt'), 'utf8');
}

describe('build configuration', () => {
  it('gyp and CMake read the same source list and flags from the script', () => {
    const json = JSON.parse(execFileSync(process.execPath, [script, 'json'], { encoding: 'utf8' }));
    const gypSources = execFileSync(process.execPath, [script, 'sources'], { encoding: 'utf8' }).trim().split('\n');
    expect(gypSources).toEqual([...json.sources.core, ...json.sources.binding]);
    const sourcesTxt = readFileSync(path.join(ROOT, 'native/sources.txt'), 'utf8');
    for (const s of gypSources) expect(sourcesTxt).toContain(s);
    expect(json.defines).toContain(`_GLIBCXX_USE_CXX11_ABI=${json.torch.abi}`);
    expect(json.cxxflags).toContain('-fopenmp');
  });

  it('the Node-less CMake fallback resolves to the same libtorch, ABI and sources', () => {
    const withNode = configure([]);
    const withoutNode = configure(['-DTFT_NODE_EXECUTABLE=TFT_NODE_EXECUTABLE-NOTFOUND']);
    const pick = (s: string, keys: string[]) =>
      Object.fromEntries(
        s
          .trim()
          .split('\n')
          .map((l) => l.split('='))
          .filter(([k]) => keys.includes(k!))
          .map(([k, ...v]) => [k, v.join('=')]),
      );
    const keys = ['source', 'lib_dir', 'include_dirs', 'abi', 'torch_cuda', 'core', 'binding', 'cuda', 'tests'];
    // the Node build lists sources relative to the root, the fallback too; compare as resolved
    expect(pick(withoutNode, keys)).toEqual(pick(withNode, keys));
  }, 120_000);

  it('a missing libtorch gives one message listing every way to fix it', () => {
    const r = spawnSync(process.execPath, [script, 'json'], {
      encoding: 'utf8',
      env: { ...process.env, LIBTORCH: '', LIBTORCH_USE_PYTORCH: '', CMAKE_PREFIX_PATH: '', TFT_NATIVE_SYSTEM_PREFIXES: '/nonexistent' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/libtorch was not found/);
    expect(r.stderr).toMatch(/apt-get install -y libtorch-dev/);
    expect(r.stderr).toMatch(/LIBTORCH=/);
    expect(r.stderr).toMatch(/LIBTORCH_USE_PYTORCH=1/);
    expect(r.stderr).toMatch(/CMAKE_PREFIX_PATH/);
    const bad = spawnSync(process.execPath, [script, 'json'], {
      encoding: 'utf8',
      env: { ...process.env, LIBTORCH: '/nonexistent/libtorch' },
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/LIBTORCH=\/nonexistent\/libtorch is set but is not a libtorch folder/);
  });
});
