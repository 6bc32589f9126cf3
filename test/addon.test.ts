import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import {
  AddonLoadError,
  InvalidArgumentError,
  ShapeError,
  TftError,
  CPU_ISAS,
  capabilities,
  cpuIsa,
  getNumThreads,
  makeError,
  setCpuIsa,
  setNumThreads,
  supportedCpuIsas,
} from '../lib/index.js';
import { explainLoadFailure, loadAddonFrom } from '../lib/native/loader.js';
import { chooseOpenBlasCore, openBlasCoreFor } from '../lib/native/openblas.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('capabilities and threads', () => {
  it('reports libtorch, CUDA, threads and the BLAS in use', () => {
    const c = capabilities();
    expect(c.torchVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof c.torchCudaCompiled).toBe('boolean');
    expect(c.intraOpThreads).toBeGreaterThanOrEqual(1);
    expect(c.hardwareThreads).toBeGreaterThanOrEqual(1);
    expect(c.blasLibrary.length).toBeGreaterThan(0);
    if (c.cudaKernelDevices === 0) expect(c.cudaStatus.length).toBeGreaterThan(0);
  });
  it('defaults to every core and can be changed', () => {
    const before = getNumThreads();
    expect(before).toBe(Number(process.env.TFT_NUM_THREADS ?? process.env.OMP_NUM_THREADS ?? capabilities().hardwareThreads));
    setNumThreads(1);
    expect(getNumThreads()).toBe(1);
    setNumThreads(before);
    expect(getNumThreads()).toBe(before);
    expect(() => setNumThreads(0)).toThrow(InvalidArgumentError);
    expect(() => setNumThreads(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('errors', () => {
  it('native failures arrive as the façade classes with stable codes and the argument named', () => {
    try {
      capabilities(); // loads the addon
      // a shape error raised inside the native core
      const addon = loadAddonFrom(ROOT);
      addon.rankMatrixSync(new Float64Array(5), 2, 3, 'kendall', undefined, 'cpu');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
      expect(e).toBeInstanceOf(TftError);
      expect((e as TftError).code).toBe('ERR_SHAPE');
      expect((e as TftError).argument).toBe('values');
      expect((e as Error).message).toMatch(/values: has 5 elements but m x n = 2 x 3/);
    }
  });
  it('unknown codes from a newer addon keep their code', () => {
    const e = makeError('ERR_SOMETHING_NEW', 'x');
    expect(e).toBeInstanceOf(TftError);
    expect(e.code).toBe('ERR_SOMETHING_NEW');
  });
});

describe('kernel instruction set (TFT_CPU_ISA, setCpuIsa)', () => {
  const cli = path.join(ROOT, 'dist/cli/main.js');
  const infoJson = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [cli, 'info', '--json'], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('reports the active path among the supported ones, scalar first and the best by default', () => {
    const isas = supportedCpuIsas();
    expect(isas[0]).toBe('scalar');
    for (const i of isas) expect(CPU_ISAS).toContain(i);
    const c = capabilities();
    expect(c.cpuIsas).toEqual(isas);
    expect(c.cpuIsa).toBe(cpuIsa());
    if (!process.env.TFT_CPU_ISA) expect(cpuIsa()).toBe(isas[isas.length - 1]);
    expect(isas.includes('avx512')).toBe(c.avx512);
    expect(isas.includes('avx2')).toBe(c.avx2);
  });
  it('setCpuIsa switches among supported paths and refuses others with a typed error naming them', () => {
    const isas = supportedCpuIsas();
    try {
      for (const i of isas) {
        setCpuIsa(i);
        expect(cpuIsa()).toBe(i);
      }
      const missing = CPU_ISAS.find((i) => !isas.includes(i))!;
      const e = (() => {
        try {
          setCpuIsa(missing);
        } catch (err) {
          return err;
        }
      })() as InvalidArgumentError;
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e.argument).toBe('isa');
      expect(e.message).toContain(`supports: ${isas.join(', ')}`);
      expect(() => setCpuIsa('sse9' as never)).toThrow(InvalidArgumentError);
      expect(() => setCpuIsa(3 as never)).toThrow(InvalidArgumentError);
    } finally {
      setCpuIsa('auto');
    }
    expect(cpuIsa()).toBe(isas[isas.length - 1]);
  });
  it('TFT_CPU_ISA forces a path in a fresh process, and a bad value fails the load with the typed error', () => {
    const r = infoJson({ TFT_CPU_ISA: 'scalar' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).cpuIsa).toBe('scalar');
    const bad = infoJson({ TFT_CPU_ISA: 'avx1024' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("TFT_CPU_ISA: unknown instruction set 'avx1024'");
    expect(bad.stderr).toContain('ERR_INVALID_ARG');
  });
});

describe('OpenBLAS kernels', () => {
  it('are chosen from the CPU flags: AVX-512 (with or without BF16), AVX2+FMA, else left to OpenBLAS', () => {
    const avx512 = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'];
    expect(openBlasCoreFor(new Set([...avx512, 'avx512_bf16']))).toBe('Cooperlake');
    expect(openBlasCoreFor(new Set(avx512))).toBe('SkylakeX');
    expect(openBlasCoreFor(new Set(['avx2', 'fma', 'avx512f']))).toBe('Haswell');
    expect(openBlasCoreFor(new Set(['sse4_2', 'avx']))).toBeUndefined();
  });
  it('follow a forced avx2 path (TFT_CPU_ISA=avx2), so the process measures what an AVX2 machine would', () => {
    const avx512 = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd', 'avx512_bf16'];
    expect(openBlasCoreFor(new Set(avx512), 'avx2')).toBe('Haswell');
    expect(openBlasCoreFor(new Set(avx512), 'avx512')).toBe('Cooperlake');
    expect(openBlasCoreFor(new Set(avx512), 'scalar')).toBe('Cooperlake');
    expect(openBlasCoreFor(new Set(['sse4_2', 'avx']), 'avx2')).toBeUndefined();
  });
  it("never override the user's OPENBLAS_CORETYPE", () => {
    const env: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'Zen' };
    expect(chooseOpenBlasCore(env)).toBeUndefined();
    expect(env.OPENBLAS_CORETYPE).toBe('Zen');
  });
  it('the loaded OpenBLAS runs the kernels the loader chose (not a generic fallback)', () => {
    const caps = capabilities();
    if (!/OpenBLAS/.test(caps.blas) || !process.env.OPENBLAS_CORETYPE) return;
    expect(caps.blas).toContain(process.env.OPENBLAS_CORETYPE);
    expect(caps.blas).not.toMatch(/Prescott|Katmai|Core2/);
  });
});

describe('loader', () => {
  it('turns dlopen failures into remediation, never a bare error', () => {
    expect(explainLoadFailure('libtorch_cpu.so: cannot open shared object file: No such file or directory')).toMatch(
      /libtorch-dev.*LD_LIBRARY_PATH/s,
    );
    expect(explainLoadFailure('libopenblas.so.0: cannot open shared object file')).toMatch(/libopenblas0-openmp/);
    expect(
      explainLoadFailure(
        '/x/tft_native.node: undefined symbol: _ZN3c106detail14torchCheckFailEPKcS2_jRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE',
      ),
    ).toMatch(/C\+\+ ABI or version/);
    expect(explainLoadFailure('No native build was found for platform=linux arch=x64')).toMatch(/npm run build:native/);
  });
  it('a broken binary is reported as AddonLoadError with the cause and a fix', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-loader-'));
    mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
    writeFileSync(path.join(dir, 'build', 'Release', 'tft_native.node'), 'not an ELF file');
    writeFileSync(path.join(dir, 'package.json'), '{"name":"broken"}');
    let err: unknown;
    try {
      loadAddonFrom(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AddonLoadError);
    expect((err as TftError).code).toBe('ERR_ADDON_LOAD');
    expect((err as Error).message).toMatch(/cause: .*tft_native\.node/);
    expect((err as Error).message).toMatch(/fix: /);
  });
});

describe('worker threads and clean exit', () => {
  it('loads and computes inside a worker_thread, with typed errors there too', async () => {
    const w = new Worker(new URL('./workers/bootstrap.mjs', import.meta.url), {
      workerData: { script: new URL('./workers/rank-in-worker.ts', import.meta.url).href },
    });
    const msg = await new Promise<{ kendall: number[]; spearman: number[]; typedError: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg.kendall[1]).toBeCloseTo(-1, 12);
    expect(msg.kendall[2]).toBeCloseTo(2 / 3, 12);
    expect(msg.spearman[5]).toBeCloseTo(-0.8, 12); // 1 - 6·18/(4·15)
    expect(msg.typedError).toBe('ShapeError:ERR_SHAPE');
  });
  it('a process using the addon in the main thread and two workers exits cleanly', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/workers/exit-cleanly.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ ok: true });
  });
  // Workers terminated while their jobs are queued and running (rank matrices, model predictions, a
  // training epoch, each reading the worker's own typed arrays): the jobs are abandoned or waited for, and
  // the process goes on and exits normally. Before per-job teardown hooks this crashed with SIGSEGV.
  it.each(['rank', 'model', 'train'])('terminating a worker in the middle of %s jobs does not crash the process', (kind) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/workers/terminate-busy.ts'), kind], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ terminated: 4, ok: true });
  });
});
