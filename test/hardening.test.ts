/**
 * Careless and hostile input found by a fuzzing review: each case used to be silently coerced, hang, or
 * throw something other than a TftError. Every one must now be a typed error that names its argument, a
 * reported issue, or (for a special file) an unreadable folder that blocks nothing else.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  CheckpointManager,
  CorruptFileError,
  DTypeError,
  InvalidArgumentError,
  NonFiniteError,
  OutOfRangeError,
  SnapshotStore,
  TFTModel,
  TftError,
  UnsafePathError,
  kendallTau,
  kendallTauMatrixSync,
  readSafetensorsHeader,
  type CheckpointMetadataInput,
} from '../lib/index.js';
import { runCli } from './helpers/cli.js';
import { randn } from './helpers/random.js';

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), `tft-hard-${p}-`));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('model inputs', () => {
  const m = TFTModel.create({ nFeatures: 3, dHidden: 8, nHeads: 2, seqLen: 4, nEntities: 3, seed: 1 });
  const x = randn(4 * 3, 2);

  it('entity ids outside int32 are OutOfRangeError, never wrapped modulo 2^32', async () => {
    for (const id of [4294967297, 2 ** 32, -1, 2 ** 31]) {
      const e = thrown(() => m.predict({ x, batch: 1, entityIds: [id] })) as OutOfRangeError;
      expect(e).toBeInstanceOf(OutOfRangeError);
      expect(e.argument).toBe('entityIds');
      expect(e.message).toContain(String(id));
    }
    expect(() => m.predict({ x, batch: 1, entityIds: [3] })).toThrow(OutOfRangeError); // the model's range
    await expect(m.predictRolling({ values: x, assets: 1, days: 4 }, { entityIds: [4294967297] })).rejects.toThrow(OutOfRangeError);
    expect(() => m.predict({ x, batch: 1, entityIds: ['1' as never] })).toThrow(InvalidArgumentError);
  });

  it('out-of-range options are refused, not replaced by defaults', async () => {
    const panel = { values: randn(6 * 3, 3), assets: 1, days: 6 };
    for (const window of [0, -1, 1.5]) {
      const e = await m.predictRolling(panel, { window, entityIds: [0] }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as TftError).argument).toBe('window');
    }
    for (const chunkSize of [0, -1, 1e12]) {
      const e = thrown(() => m.predict({ x, batch: 1, entityIds: [0] }, { chunkSize })) as TftError;
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e.argument).toBe('chunkSize');
    }
    await expect(m.predictRolling(panel, { chunkWindows: 0, entityIds: [0] })).rejects.toThrow(InvalidArgumentError);
  });

  it('finite inputs that overflow inside the network give NonFiniteError, not NaN positions', async () => {
    const big = new Float32Array(x.length).fill(3e38);
    expect(() => m.predict({ x: big, batch: 1, entityIds: [0] })).toThrow(NonFiniteError);
    await expect(m.predictBatch({ x: big, batch: 1, entityIds: [0] })).rejects.toThrow(NonFiniteError);
    await expect(m.predictRolling({ values: new Float32Array(6 * 3).fill(3e38), assets: 1, days: 6 }, { entityIds: [0] })).rejects.toThrow(
      NonFiniteError,
    );
    // a window skipped for missing data is NaN by design, and does not trip the check
    const gaps = randn(6 * 3, 4);
    gaps[0] = Number.NaN;
    const r = await m.predictRolling({ values: gaps, assets: 1, days: 6 }, { entityIds: [0], skipNonFinite: true });
    expect(Number.isNaN(r.position[3])).toBe(true);
    expect(Number.isFinite(r.position[4])).toBe(true);
  });

  it('maxPosition beyond float32 range is refused by the config schema', () => {
    for (const maxPosition of [1e300, 3.5e38, Number.POSITIVE_INFINITY]) {
      const e = thrown(() => TFTModel.create({ nFeatures: 2, maxPosition })) as TftError;
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e.argument).toBe('config.maxPosition');
    }
  });

  it('null inputs and shared memory get typed errors', async () => {
    for (const bad of [null, undefined, 3]) {
      expect(() => m.predict(bad as never)).toThrow(InvalidArgumentError);
      await expect(m.predictBatch(bad as never)).rejects.toThrow(InvalidArgumentError);
      await expect(m.predictRolling(bad as never)).rejects.toThrow(InvalidArgumentError);
    }
    const shared = new Float32Array(new SharedArrayBuffer(x.byteLength));
    const e = thrown(() => m.predict({ x: shared, batch: 1, entityIds: [0] })) as TftError;
    expect(e).toBeInstanceOf(DTypeError);
    expect(e.message).toContain('SharedArrayBuffer');
    expect(() => kendallTauMatrixSync({ data: new Float64Array(new SharedArrayBuffer(48)), rows: 2, cols: 3 })).toThrow(DTypeError);
  });

  it('the rank API does not coerce strings inside rows', () => {
    expect(() =>
      kendallTauMatrixSync([
        [1, 2, 3],
        ['1' as never, 2, 3],
      ]),
    ).toThrow(DTypeError);
    expect(() => kendallTau([1, 2, 3], ['1' as never, 2, 3])).toThrow(DTypeError);
    expect(
      kendallTauMatrixSync([
        [1, 2, 3],
        [null, 2, 3],
      ])[1],
    ).toBe(1); // null still means absent
  });
});

describe('snapshot store', () => {
  const base = () => tmp('snap');
  const input = (over = {}) => ({ targetName: 't', method: 'm', features: ['a', 'b'], importances: [2, 1], ...over });

  it('long non-ASCII names are UnsafePathError (not a bare ENAMETOOLONG); invalid JSON is CorruptFileError naming the file', async () => {
    const store = new SnapshotStore(base());
    const e = await store.save(input({ targetName: 'é'.repeat(100) })).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UnsafePathError);
    const { path: file } = await store.save(input());
    writeFileSync(file, '{"schemaVersion": 1,');
    const e2 = await store.load(file).catch((err: unknown) => err);
    expect(e2).toBeInstanceOf(CorruptFileError);
    expect((e2 as Error).message).toContain(file);
  });

  it('a file whose content names another target is reported, not analysed there; a reused run id counts once', async () => {
    const dir = base();
    const store = new SnapshotStore(dir);
    const { path: a } = await store.save(input({ runId: 'r1' }));
    await store.save(input({ runId: 'r2' }));
    await store.save(input({ targetName: 'other', runId: 'r3' }));
    // misfiled: other/m/r3.json moved under t/m
    renameSync(path.join(dir, 'other', 'm', 'r3.json'), path.join(dir, 't', 'm', 'r3.json'));
    // a second file reusing run id r1
    writeFileSync(path.join(dir, 't', 'm', 'r1-copy.json'), readFileSync(a));
    const { snapshots, issues } = await store.list();
    expect(snapshots.map((s) => s.runId).sort()).toEqual(['r1', 'r2']);
    expect(issues.find((i) => i.path.endsWith('r3.json'))?.reason).toMatch(/misfiled: its content says target 'other'/);
    const dup = issues.find((i) => i.path.endsWith('r1.json') || i.path.endsWith('r1-copy.json'));
    expect(dup?.reason).toMatch(/run id 'r1' already used/);
  });
});

const META: CheckpointMetadataInput = {
  modelType: 'tft',
  featureNames: ['a', 'b'],
  nAssets: 1,
  assetNames: ['X'],
  normalization: { names: ['a', 'b'], means: [0, 0], stds: [1, 1] },
  trainingInfo: { folds: [], epochs: { pretrain: 1, finetune: 1 } },
  oos: { sharpe: 0, totalReturn: 0, maxDrawdown: 0 },
};

describe('checkpoint folders with special files', () => {
  const save = async () => {
    const root = tmp('ckpt');
    const manager = new CheckpointManager(root);
    const model = TFTModel.create({ nFeatures: 2, dHidden: 4, nHeads: 2, seqLen: 3, nEntities: 1, seed: 1 });
    const dir = await manager.save(model, META, { gitCommit: null });
    model.dispose();
    return { root, manager, dir };
  };

  it('a FIFO named metadata.json or model.safetensors neither hangs load nor blocks the listing of other folders', async () => {
    for (const name of ['metadata.json', 'model.safetensors']) {
      const { manager, dir } = await save();
      const good = await manager.save(TFTModel.create({ nFeatures: 2, dHidden: 4, nHeads: 2, seqLen: 3, nEntities: 1, seed: 2 }), META, {
        gitCommit: null,
      });
      const file = path.join(dir, name);
      const keep = readFileSync(file);
      rmSync(file);
      execFileSync('mkfifo', [file]);
      const e = await manager.load(dir).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(CorruptFileError);
      expect((e as Error).message).toContain('not a regular file');
      const { checkpoints, issues } = await manager.scan();
      expect(checkpoints.map((c) => c.path)).toContain(good);
      if (name === 'metadata.json') expect(issues.map((i) => i.path)).toContain(dir);
      rmSync(file);
      writeFileSync(file, keep);
      (await manager.load(dir)).model.dispose(); // restored, it loads again
    }
  }, 30_000);

  it('a symlinked metadata.json is not followed, even to a valid copy', async () => {
    const { manager, dir } = await save();
    const outside = path.join(tmp('outside'), 'metadata.json');
    writeFileSync(outside, readFileSync(path.join(dir, 'metadata.json')));
    rmSync(path.join(dir, 'metadata.json'));
    symlinkSync(outside, path.join(dir, 'metadata.json'));
    const e = await manager.load(dir).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(CorruptFileError);
    expect((e as Error).message).toContain('symbolic link');
  });

  it('metadata.json with a repeated key is refused (last-wins JSON would read it one way, others another)', async () => {
    const { manager, dir } = await save();
    const file = path.join(dir, 'metadata.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"modelType": "tft",', '"modelType": "other", "modelType": "tft",'));
    const e = await manager.load(dir).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(CorruptFileError);
    expect((e as Error).message).toContain("key 'modelType' appears twice");
  });

  it('checkpoints list: a missing root is empty (exit 0), a file as the root is an error (exit 1)', async () => {
    const missing = path.join(tmp('root'), 'nothing-here');
    const r = await runCli(['checkpoints', 'list', '--root', missing]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('no checkpoints under');
    const file = path.join(tmp('root'), 'file');
    writeFileSync(file, 'x');
    expect((await runCli(['checkpoints', 'list', '--root', file])).code).toBe(1);
  });
});

describe('safetensors headers are exactly as strict as RFC 8259', () => {
  const write = (header: Buffer) => {
    const f = path.join(tmp('st'), 'w.safetensors');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(f, Buffer.concat([len, header, Buffer.alloc(512)]));
    return f;
  };
  it('numbers with leading zeros, invalid UTF-8 and special files are CorruptFileError / typed', () => {
    const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    expect(() => readSafetensorsHeader(write(Buffer.from(ok)))).toThrow(CorruptFileError); // trailing bytes
    const lead = write(Buffer.from('{"a":{"dtype":"F32","shape":[02],"data_offsets":[00,8]}}'));
    expect(() => readSafetensorsHeader(lead)).toThrow(/leading zero/);
    const utf8 = write(Buffer.concat([Buffer.from('{"__metadata__":{"k'), Buffer.from([0xc3, 0x28]), Buffer.from('":"v"}}')]));
    expect(() => readSafetensorsHeader(utf8)).toThrow(/not UTF-8/);
    const fifo = path.join(tmp('st'), 'f.safetensors');
    execFileSync('mkfifo', [fifo]);
    const e = thrown(() => readSafetensorsHeader(fifo)) as TftError;
    expect(e).toBeInstanceOf(TftError);
    expect(e.message).toContain('not a regular file');
  });
});

describe('CLI exit codes', () => {
  it('stability analyze-all with nothing to analyse exits 1 (empty store, missing folder, a file)', async () => {
    const empty = tmp('stab');
    const file = path.join(empty, 'file');
    writeFileSync(file, 'x');
    for (const dir of [empty, path.join(empty, 'missing'), file]) {
      const r = await runCli(['stability', 'analyze-all', '--base-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('no snapshots under');
    }
  });
  it('--top-k is bounded the same way however it is written; --lookback quotes the value given', async () => {
    for (const k of ['1000000000', '1e9', '0', 'abc']) expect((await runCli(['stability', 'analyze-all', '--top-k', k])).code).toBe(2);
    const r = await runCli(['rank', 'momentum', '--lookback', 'abc']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("'abc'");
    expect(r.err).not.toContain('NaN');
  });
});
