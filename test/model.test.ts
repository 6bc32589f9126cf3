import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  BusyError,
  CorruptFileError,
  CudaUnavailableError,
  DTypeError,
  DisposedError,
  InvalidArgumentError,
  NonFiniteError,
  OutOfRangeError,
  ShapeError,
  StateDictError,
  TFTModel,
  capabilities,
  readSafetensors,
  readSafetensorsHeader,
  type TFTConfigInput,
  setCpuIsa,
  supportedCpuIsas,
} from '../lib/index.js';
import { randn } from './helpers/random.js';
import { fixturePath } from './helpers/fixtures.js';

const FIXTURES = fixturePath('model');
const CASES = ['plain', 'entities', 'xtrend', 'context_only', 'reference_size', 'single_step'];

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// Every kernel path this CPU supports (scalar, avx2, avx512) runs the same parity and rolling == batch checks.
describe.each(supportedCpuIsas())('kernels: %s', (isa) => {
  beforeAll(() => setCpuIsa(isa));
  afterAll(() => setCpuIsa('auto'));

  describe('parity with the PyTorch reference (reference/fixtures/make_model_fixtures.py)', () => {
    for (const name of CASES) {
      it(name, async () => {
        const dir = path.join(FIXTURES, name);
        const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as TFTConfigInput;
        const model = TFTModel.create(config);
        await model.loadWeights(path.join(dir, 'weights.safetensors'));
        const io = await readSafetensors(path.join(dir, 'io.safetensors'));
        const x = io.get('x')!;
        const [B, T] = x.shape as [number, number, number];
        const input = {
          x: x.data,
          batch: B,
          steps: T,
          entityIds: io.has('entity') ? Int32Array.from(io.get('entity')!.data) : undefined,
          context: io.get('context')?.data,
          contextLen: io.get('context')?.shape[2],
          contextEntityIds: io.has('context_entity') ? Int32Array.from(io.get('context_entity')!.data) : undefined,
        };
        const last = await model.predictBatch(input, { vsnWeights: true, attention: true });
        const all = model.predict(input, { allSteps: true, vsnWeights: true, attention: true });
        for (const [out, prefix] of [
          [last, 'last_'],
          [all, 'all_'],
        ] as const) {
          expect(maxAbs(out.position, io.get(`${prefix}position`)!.data)).toBeLessThanOrEqual(1e-5);
          expect(maxAbs(out.mu, io.get(`${prefix}mu`)!.data)).toBeLessThanOrEqual(1e-5);
          expect(maxAbs(out.sigma, io.get(`${prefix}sigma`)!.data)).toBeLessThanOrEqual(1e-5);
          expect(maxAbs(out.vsnWeights!, io.get(`${prefix}vsn_weights`)!.data)).toBeLessThanOrEqual(1e-5);
          expect(maxAbs(out.attention!, io.get(`${prefix}attention`)!.data)).toBeLessThanOrEqual(1e-5);
        }
        expect(last.position.length).toBe(B);
        expect(all.position.length).toBe(B * T);
        for (const s of last.sigma) expect(s).toBeGreaterThan(0);
        model.dispose();
      });
    }
  });

  describe('rolling prediction', () => {
    it('equals predictBatch on the same windows (≤1e-6), NaN before the first full window', async () => {
      const config = { nFeatures: 6, dHidden: 16, nHeads: 2, seqLen: 8, nEntities: 2, seed: 3 };
      const model = TFTModel.create(config);
      const A = 2;
      const D = 30;
      const F = 6;
      const T = 8;
      const values = randn(A * D * F, 1);
      const entityIds = [1, 0];
      const rolling = await model.predictRolling({ values, assets: A, days: D }, { entityIds, vsnWeights: true });
      const W = D - T + 1;
      const windows = new Float32Array(A * W * T * F);
      const wid = new Int32Array(A * W);
      for (let a = 0; a < A; a++) {
        for (let w = 0; w < W; w++) {
          windows.set(values.subarray((a * D + w) * F, (a * D + w + T) * F), (a * W + w) * T * F);
          wid[a * W + w] = entityIds[a]!;
        }
      }
      const batch = await model.predictBatch({ x: windows, batch: A * W, steps: T, entityIds: wid });
      for (let a = 0; a < A; a++) {
        for (let d = 0; d < D; d++) {
          const r = rolling.position[a * D + d]!;
          if (d < T - 1) expect(Number.isNaN(r)).toBe(true);
          else expect(Math.abs(r - batch.position[a * W + d - T + 1]!)).toBeLessThanOrEqual(1e-6);
        }
      }
      expect(rolling.vsnWeights!.length).toBe(A * D * F);
    });
  });

  describe('rolling prediction of an X-Trend model (context set and entities)', () => {
    it('equals predictBatch on the same windows with the shared context: position, mu and sigma (≤1e-6)', async () => {
      const A = 3;
      const D = 24;
      const F = 5;
      const T = 6;
      const C = 2;
      const L = 7;
      const model = TFTModel.create({ nFeatures: F, dHidden: 16, nHeads: 4, seqLen: T, nContext: C, nEntities: 4, seed: 8 });
      const values = randn(A * D * F, 21);
      const entityIds = [2, 0, 3];
      const context = randn(C * L * F, 22);
      const contextEntityIds = [1, 3];
      const rolling = await model.predictRolling({ values, assets: A, days: D }, { entityIds, context, contextLen: L, contextEntityIds });
      const W = D - T + 1;
      const windows = new Float32Array(A * W * T * F);
      const wid = new Int32Array(A * W);
      // every window sees the same context set: repeat it (and its ids) per window for predictBatch
      const ctx = new Float32Array(A * W * C * L * F);
      const cid = new Int32Array(A * W * C);
      for (let a = 0; a < A; a++) {
        for (let w = 0; w < W; w++) {
          const b = a * W + w;
          windows.set(values.subarray((a * D + w) * F, (a * D + w + T) * F), b * T * F);
          wid[b] = entityIds[a]!;
          ctx.set(context, b * C * L * F);
          cid.set(contextEntityIds, b * C);
        }
      }
      const batch = await model.predictBatch({
        x: windows,
        batch: A * W,
        steps: T,
        entityIds: wid,
        context: ctx,
        contextLen: L,
        contextEntityIds: cid,
      });
      let worst = 0;
      for (const key of ['position', 'mu', 'sigma'] as const) {
        for (let a = 0; a < A; a++) {
          for (let d = 0; d < D; d++) {
            const r = rolling[key][a * D + d]!;
            if (d < T - 1) {
              expect(Number.isNaN(r)).toBe(true);
              continue;
            }
            const diff = Math.abs(r - batch[key][a * W + d - T + 1]!);
            worst = Math.max(worst, diff);
            expect(diff, `${key} asset ${a} day ${d}`).toBeLessThanOrEqual(1e-6);
          }
        }
      }
      // the context matters: a different context set moves the outputs, so the comparison is not vacuous
      const other = await model.predictRolling(
        { values, assets: A, days: D },
        { entityIds, context: randn(C * L * F, 23), contextLen: L, contextEntityIds },
      );
      let moved = 0;
      for (let i = 0; i < A * D; i++) if (i % D >= T - 1) moved = Math.max(moved, Math.abs(other.position[i]! - rolling.position[i]!));
      expect(moved).toBeGreaterThan(1e-4);
      expect(worst).toBeLessThanOrEqual(1e-6);
      model.dispose();
    });
  });
});

describe('state dict and weights files', () => {
  it('round-trips through stateDict/loadStateDict and safetensors, bit for bit', async () => {
    const a = TFTModel.create({ nFeatures: 5, dHidden: 8, nHeads: 2, seqLen: 6, nContext: 2, seed: 1 });
    const b = TFTModel.create({ nFeatures: 5, dHidden: 8, nHeads: 2, seqLen: 6, nContext: 2, seed: 2 });
    const input = { x: randn(3 * 6 * 5, 4), batch: 3, context: randn(3 * 2 * 4 * 5, 5), contextLen: 4 };
    const pa = a.predict(input);
    expect(Array.from(b.predict(input).position)).not.toEqual(Array.from(pa.position));
    b.loadStateDict(a.stateDict());
    expect(Array.from(b.predict(input).position)).toEqual(Array.from(pa.position));

    const dir = mkdtempSync(path.join(tmpdir(), 'tft-weights-'));
    const file = path.join(dir, 'model.safetensors');
    await a.saveWeights(file, { note: 'round trip' });
    const header = readSafetensorsHeader(file);
    expect(header.metadata.note).toBe('round trip');
    expect(header.tensors.map((t) => t.name)).toEqual(a.parameterSpecs().map((s) => s.name));
    const c = TFTModel.create({ nFeatures: 5, dHidden: 8, nHeads: 2, seqLen: 6, nContext: 2, seed: 9 });
    await c.loadWeights(file);
    expect(Array.from(c.predict(input).position)).toEqual(Array.from(pa.position));
  });

  it('refuses missing, unexpected, misshapen and non-finite tensors, naming them, and changes nothing', () => {
    const m = TFTModel.create({ nFeatures: 3, dHidden: 4, nHeads: 2, seqLen: 4 });
    const good = m.stateDict();
    const before = m.predict({ x: randn(12, 7), batch: 1 }).position[0];
    const missing = new Map(good);
    missing.delete('mu_head.bias');
    expect(() => m.loadStateDict(missing)).toThrow(/mu_head\.bias/);
    expect(() => m.loadStateDict(missing)).toThrow(StateDictError);
    const extra = new Map(good).set('bogus.weight', { shape: [1], data: new Float32Array(1) });
    expect(() => m.loadStateDict(extra)).toThrow(/unexpected tensors: bogus\.weight/);
    const shaped = new Map(good).set('mu_head.weight', { shape: [4, 1], data: new Float32Array(4) });
    expect(() => m.loadStateDict(shaped)).toThrow(/mu_head\.weight.*shape \[4, 1\].*\[1, 4\]/);
    const nan = new Map(good).set('mu_head.bias', { shape: [1], data: new Float32Array([Number.NaN]) });
    expect(() => m.loadStateDict(nan)).toThrow(NonFiniteError);
    expect(m.predict({ x: randn(12, 7), batch: 1 }).position[0]).toBe(before);
  });

  it('refuses corrupted and truncated weight files with CorruptFileError', async () => {
    const m = TFTModel.create({ nFeatures: 3, dHidden: 4, nHeads: 2, seqLen: 4 });
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-corrupt-'));
    const file = path.join(dir, 'w.safetensors');
    await m.saveWeights(file);
    const bytes = readFileSync(file);
    writeFileSync(path.join(dir, 'truncated.safetensors'), bytes.subarray(0, bytes.length - 7));
    await expect(m.loadWeights(path.join(dir, 'truncated.safetensors'))).rejects.toBeInstanceOf(CorruptFileError);
    const garbage = Buffer.from(bytes);
    garbage.writeUInt32LE(0xfffffff0, 0);
    writeFileSync(path.join(dir, 'garbage.safetensors'), garbage);
    await expect(m.loadWeights(path.join(dir, 'garbage.safetensors'))).rejects.toThrow(/header length/);
    expect(existsSync(file)).toBe(true);
  });
});

describe('bad input gets typed errors; nothing crashes', () => {
  const m = TFTModel.create({ nFeatures: 4, dHidden: 8, nHeads: 2, seqLen: 5, nEntities: 3 });
  const x = randn(2 * 5 * 4, 11);
  it('shapes, dtypes, NaN, ids, devices, configs', () => {
    expect(() => m.predict({ x: x.subarray(1), batch: 2, entityIds: [0, 1] })).toThrow(ShapeError);
    expect(() => m.predict({ x, batch: 2, steps: 0, entityIds: [0, 1] })).toThrow(ShapeError);
    expect(() => m.predict({ x: new Float64Array(40) as unknown as Float32Array, batch: 2, entityIds: [0, 1] })).toThrow(DTypeError);
    const bad = Float32Array.from(x);
    bad[17] = Number.NaN;
    expect(() => m.predict({ x: bad, batch: 2, entityIds: [0, 1] })).toThrow(
      /x: contains NaN or Inf at \[batch, time, feature\] = \[0, 4, 1\]/,
    );
    expect(Number.isFinite(m.predict({ x: bad, batch: 2, entityIds: [0, 1] }, { nanPolicy: 'zero' }).position[0])).toBe(true);
    expect(() => m.predict({ x, batch: 2, entityIds: [0, 3] })).toThrow(OutOfRangeError);
    expect(() => m.predict({ x, batch: 2 })).toThrow(InvalidArgumentError);
    expect(() => m.predict({ x, batch: 2, entityIds: [0, 1] }, { nanPolicy: 'drop' as 'zero' })).toThrow(InvalidArgumentError);
    expect(() => TFTModel.create({ nFeatures: 4, dHidden: 6, nHeads: 4 })).toThrow(/config\.nHeads/);
    expect(() => TFTModel.create({ nFeatures: 0 })).toThrow(/config\.nFeatures/);
    expect(() => TFTModel.create({ nFeatures: 4, dropout: 1 })).toThrow(InvalidArgumentError);
    expect(() => TFTModel.create({ nFeatures: 4 }, { device: 'tpu' as 'cpu' })).toThrow(InvalidArgumentError);
    if (capabilities().torchCudaDevices === 0) {
      expect(() => TFTModel.create({ nFeatures: 4 }, { device: 'cuda' })).toThrow(CudaUnavailableError);
    }
  });
  it('a batch of zero sequences gives empty outputs', async () => {
    const r = await m.predictBatch({ x: new Float32Array(0), batch: 0, entityIds: [] });
    expect(r.position.length).toBe(0);
    expect(r.sigma.length).toBe(0);
  });
  it('async errors reject with the same classes', async () => {
    await expect(m.predictBatch({ x, batch: 2, entityIds: [0, 7] })).rejects.toBeInstanceOf(OutOfRangeError);
  });
  it('a busy model refuses synchronous use; a disposed one every use', async () => {
    const big = TFTModel.create({ nFeatures: 16, dHidden: 32, nHeads: 4, seqLen: 40 });
    const job = big.predictBatch({ x: randn(256 * 40 * 16, 3), batch: 256 });
    expect(() => big.predict({ x: randn(40 * 16, 3), batch: 1 })).toThrow(BusyError);
    await job;
    big.dispose();
    expect(() => big.predict({ x: randn(40 * 16, 3), batch: 1 })).toThrow(DisposedError);
    expect(() => big.dispose()).not.toThrow();
  });
});

describe('model config validation', () => {
  // One bad value per field (and per bound): each is an InvalidArgumentError naming `config.<field>`.
  const cases: [field: string, config: Record<string, unknown>][] = [
    ['nFeatures', { nFeatures: undefined }],
    ['nFeatures', { nFeatures: 0 }],
    ['nFeatures', { nFeatures: 2.5 }],
    ['nFeatures', { nFeatures: '3' }],
    ['nFeatures', { nFeatures: 65_537 }],
    ['dHidden', { dHidden: 0 }],
    ['dHidden', { dHidden: 8.5 }],
    ['dHidden', { dHidden: 4097, nHeads: 1 }],
    ['nHeads', { nHeads: 0 }],
    ['nHeads', { dHidden: 10, nHeads: 4 }],
    ['lstmLayers', { lstmLayers: 0 }],
    ['lstmLayers', { lstmLayers: 17 }],
    ['dropout', { dropout: -0.1 }],
    ['dropout', { dropout: 1 }],
    ['dropout', { dropout: Number.NaN }],
    ['seqLen', { seqLen: 0 }],
    ['seqLen', { seqLen: 3.5 }],
    ['seqLen', { seqLen: 65_537 }],
    ['nContext', { nContext: -1 }],
    ['nContext', { nContext: 4097 }],
    ['maxPosition', { maxPosition: 0 }],
    ['maxPosition', { maxPosition: -1 }],
    ['maxPosition', { maxPosition: Number.POSITIVE_INFINITY }],
    ['nEntities', { nEntities: -1 }],
    ['nEntities', { nEntities: 1.5 }],
    ['nEntities', { nEntities: 1_000_001 }],
    ['seed', { seed: -1 }],
    ['seed', { seed: 0.5 }],
    ['seed', { seed: 2 ** 53 }],
    ['bogus', { bogus: 1 }],
    ['n_features', { n_features: 4 }],
  ];
  it.each(cases)('config.%s: %j is refused', (field, bad) => {
    const config = { nFeatures: 4, ...bad } as TFTConfigInput;
    let err: unknown;
    try {
      TFTModel.create(config).dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).code).toBe('ERR_INVALID_ARG');
    expect((err as InvalidArgumentError).argument).toBe(`config.${field}`);
    expect((err as Error).message).toMatch(new RegExp(`^config\\.${field}: `));
  });
  it('accepts every bound itself', () => {
    for (const c of [
      { nFeatures: 1, dHidden: 1, nHeads: 1, seqLen: 1, lstmLayers: 1, dropout: 0, maxPosition: 1e-6, seed: 0 },
      { nFeatures: 2, dHidden: 4096, nHeads: 4096, lstmLayers: 16, seqLen: 2, dropout: 0.999, nEntities: 0, seed: 2 ** 53 - 1 },
    ]) {
      expect(() => TFTModel.create(c).dispose()).not.toThrow();
    }
  });
});

describe('X-Trend inputs: context sets and entity ids', () => {
  const B = 2;
  const T = 4;
  const F = 3;
  const C = 2;
  const L = 5;
  const m = TFTModel.create({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: T, nContext: C, nEntities: 3, seed: 1 });
  const x = randn(B * T * F, 31);
  const context = randn(B * C * L * F, 32);
  const good = { x, batch: B, entityIds: [0, 2], context, contextLen: L, contextEntityIds: [0, 1, 2, 0] };
  const nanContext = Float32Array.from(context);
  nanContext[7] = Number.NaN;
  type Case = [name: string, input: Record<string, unknown>, error: new (...a: never[]) => Error, argument: string, message: RegExp];
  const cases: Case[] = [
    [
      'context one value short',
      { context: context.subarray(1) },
      ShapeError,
      'context',
      /context: has 59 values but the shape 2 x 2 x 5 x 3 needs 60/,
    ],
    ['context one sequence too many', { context: randn(B * (C + 1) * L * F, 3) }, ShapeError, 'context', /context: has 90 values/],
    [
      'contextLen not matching the context',
      { contextLen: 4 },
      ShapeError,
      'context',
      /context: has 60 values but the shape 2 x 2 x 4 x 3 needs 48/,
    ],
    ['contextLen missing', { contextLen: undefined }, InvalidArgumentError, 'contextLen', /contextLen/],
    ['contextLen fractional', { contextLen: 2.5 }, InvalidArgumentError, 'contextLen', /contextLen: must be an integer/],
    ['context as Float64Array', { context: new Float64Array(context.length) }, DTypeError, 'context', /context: must be a Float32Array/],
    [
      'context with NaN',
      { context: nanContext },
      NonFiniteError,
      'context',
      /context: contains NaN or Inf at \[batch, context, time, feature\] = \[0, 0, 2, 1\]/,
    ],
    [
      'context missing',
      { context: undefined, contextLen: undefined },
      InvalidArgumentError,
      'context',
      /context: this X-Trend model needs a context set of 2 sequences/,
    ],
    [
      'contextEntityIds missing',
      { contextEntityIds: undefined },
      ShapeError,
      'contextEntityIds',
      /contextEntityIds: needs \[batch, nContext\] ids/,
    ],
    [
      'contextEntityIds too short',
      { contextEntityIds: [0, 1, 2] },
      ShapeError,
      'contextEntityIds',
      /contextEntityIds: has 3 ids, expected 4/,
    ],
    [
      'contextEntityIds too long',
      { contextEntityIds: [0, 1, 2, 0, 1] },
      ShapeError,
      'contextEntityIds',
      /contextEntityIds: has 5 ids, expected 4/,
    ],
    [
      'contextEntityIds = nEntities',
      { contextEntityIds: [0, 1, 3, 0] },
      OutOfRangeError,
      'contextEntityIds',
      /contextEntityIds: entity id 3 is outside \[0, 3\)/,
    ],
    ['contextEntityIds negative', { contextEntityIds: [0, -1, 2, 0] }, OutOfRangeError, 'contextEntityIds', /entity id -1 is outside/],
    ['contextEntityIds fractional', { contextEntityIds: [0, 1.5, 2, 0] }, InvalidArgumentError, 'contextEntityIds', /ids must be integers/],
    ['entityIds too short', { entityIds: [0] }, ShapeError, 'entityIds', /entityIds: has 1 ids, expected 2/],
    ['entityIds too long', { entityIds: [0, 1, 2] }, ShapeError, 'entityIds', /entityIds: has 3 ids, expected 2/],
    ['entityIds = nEntities', { entityIds: [0, 3] }, OutOfRangeError, 'entityIds', /entityIds: entity id 3 is outside \[0, 3\)/],
    ['entityIds negative', { entityIds: [-1, 0] }, OutOfRangeError, 'entityIds', /entity id -1 is outside/],
    [
      'entityIds missing',
      { entityIds: undefined },
      InvalidArgumentError,
      'entityIds',
      /entityIds: this model has an entity embedding \(nEntities = 3\)/,
    ],
  ];
  it('the well-formed input predicts', () => {
    expect(m.predict(good).position.length).toBe(B);
  });
  it.each(cases)('%s: typed error naming the argument, sync and async', async (_name, change, error, argument, message) => {
    const input = { ...good, ...change } as Parameters<TFTModel['predict']>[0];
    let err: unknown;
    try {
      m.predict(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(error);
    expect((err as { argument?: string }).argument).toBe(argument);
    expect((err as Error).message).toMatch(message);
    const async = await m.predictBatch(input).catch((e: unknown) => e);
    expect(async).toBeInstanceOf(error);
    expect((async as { argument?: string }).argument).toBe(argument);
  });
  it('rolling prediction checks its shared context set and ids the same way', async () => {
    const A = 2;
    const D = 10;
    const panel = { values: randn(A * D * F, 33), assets: A, days: D };
    const ctx = randn(C * L * F, 34);
    const ok = { entityIds: [0, 1], context: ctx, contextLen: L, contextEntityIds: [0, 2] };
    expect((await m.predictRolling(panel, ok)).position.length).toBe(A * D);
    const expectError = async (o: Record<string, unknown>, error: new (...a: never[]) => Error, argument: string, message: RegExp) => {
      const e = await m.predictRolling(panel, { ...ok, ...o }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(error);
      expect((e as { argument?: string }).argument).toBe(argument);
      expect((e as Error).message).toMatch(message);
    };
    await expectError({ context: ctx.subarray(1) }, ShapeError, 'context', /context: has 29 values but the shape 2 x 5 x 3 needs 30/);
    // a per-window context set is not the shared [nContext, contextLen, F] one
    await expectError({ context: randn(A * C * L * F, 1) }, ShapeError, 'context', /needs 30/);
    await expectError(
      { context: undefined, contextLen: undefined },
      ShapeError,
      'context',
      /needs a shared context set \[nContext = 2, contextLen, nFeatures\]/,
    );
    await expectError({ contextEntityIds: [0] }, ShapeError, 'contextEntityIds', /has 1 ids, expected 2/);
    await expectError({ contextEntityIds: [0, 3] }, OutOfRangeError, 'contextEntityIds', /entity id 3 is outside \[0, 3\)/);
    await expectError({ contextEntityIds: undefined }, ShapeError, 'contextEntityIds', /needs nContext ids/);
    await expectError({ entityIds: [0] }, ShapeError, 'entityIds', /has 1 ids, expected 2/);
    await expectError({ entityIds: [0, 5] }, OutOfRangeError, 'entityIds', /entity id 5 is outside/);
    await expectError({ entityIds: undefined }, ShapeError, 'entityIds', /one id per asset \(2\)/);
  });
});

describe('performance behaviour', () => {
  it('predictBatch does not block the event loop', async () => {
    const model = TFTModel.create({ nFeatures: 32, dHidden: 32, nHeads: 4, seqLen: 63 });
    const B = 512;
    const x = randn(B * 63 * 32, 2);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    await model.predictBatch({ x, batch: B });
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(30);
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 5 / 3));
  });

  it('2,000 calls do not grow memory', async () => {
    const model = TFTModel.create({ nFeatures: 8, dHidden: 16, nHeads: 4, seqLen: 20 });
    const input = { x: randn(4 * 20 * 8, 1), batch: 4 };
    for (let i = 0; i < 200; i++) await model.predictBatch(input);
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 2000; i++) {
      if (i % 2) model.predict(input);
      else await model.predictBatch(input, { vsnWeights: true });
    }
    globalThis.gc?.();
    const growth = process.memoryUsage().rss - before;
    expect(growth).toBeLessThan(40 * 1024 * 1024);
  });
});
describe('inputs the model has no use for are refused, naming the argument', () => {
  const x = randn(2 * 4 * 3, 1);
  it('contextEntityIds for a model without entities (nEntities = 0)', () => {
    const plain = TFTModel.create({ nFeatures: 3, dHidden: 8, nHeads: 2, seqLen: 4 });
    expect(() => plain.predict({ x, batch: 2, contextEntityIds: [0, 0] })).toThrow(/contextEntityIds: this model has no context set/);
    const contextOnly = TFTModel.create({ nFeatures: 3, dHidden: 8, nHeads: 2, seqLen: 4, nContext: 2 });
    expect(() =>
      contextOnly.predict({ x, batch: 2, context: randn(2 * 2 * 5 * 3, 2), contextLen: 5, contextEntityIds: [0, 1, 2, 3] }),
    ).toThrow(/contextEntityIds: this model has no entity embedding/);
  });
  it('a context set for a plain TFT (nContext = 0)', async () => {
    const plain = TFTModel.create({ nFeatures: 3, dHidden: 8, nHeads: 2, seqLen: 4 });
    expect(() => plain.predict({ x, batch: 2, context: randn(2 * 2 * 5 * 3, 2), contextLen: 5 })).toThrow(InvalidArgumentError);
    await expect(
      plain.predictRolling({ values: randn(2 * 6 * 3, 3), assets: 2, days: 6 }, { context: randn(2 * 5 * 3, 2), contextLen: 5 }),
    ).rejects.toThrow(InvalidArgumentError);
    expect(() => plain.predict({ x, batch: 2, context: randn(2 * 2 * 5 * 3, 2), contextLen: 5 })).toThrow(
      /context: this model has no context set \(config.nContext = 0\)/,
    );
  });
});
