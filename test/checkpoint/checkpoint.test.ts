import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  CheckpointManager,
  CorruptFileError,
  NotFoundError,
  SchemaError,
  StateDictError,
  TFTModel,
  UnsafePathError,
  readSafetensors,
  type CheckpointMetadataInput,
} from '../../lib/index.js';
import { main } from '../../lib/cli/main.js';
import { randn } from '../helpers/random.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SAVER = path.join(ROOT, 'test/checkpoint/fixtures/saver.ts');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'tft-ckpt-'));

const meta = (over: Partial<CheckpointMetadataInput> = {}): CheckpointMetadataInput => ({
  modelType: 'tft',
  featureNames: ['a', 'b', 'c', 'd', 'e'],
  nAssets: 2,
  assetNames: ['X', 'Y'],
  normalization: { names: ['a', 'b', 'c', 'd', 'e'], means: [0, 1, 2, 3, 4], stds: [1, 1, 2, 2, 3] },
  trainingInfo: {
    folds: [{ index: 0, train: { start: '1992-01-02', end: '1995-12-29' }, test: { start: '1997-01-02', end: '1997-12-31' }, sharpe: 1.2, totalReturn: 0.08, maxDrawdown: 0.04 }],
    epochs: { pretrain: 4, finetune: 4 },
  },
  oos: { sharpe: 1.2, totalReturn: 0.08, maxDrawdown: 0.04 },
  ...over,
});


const model = () => TFTModel.create({ nFeatures: 5, dHidden: 8, nHeads: 2, seqLen: 6, nEntities: 2, seed: 3 });
const input = { x: randn(3 * 6 * 5, 1), batch: 3, entityIds: [0, 1, 1] };

function hasTorch(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}
const requirePython = process.env.TFT_REQUIRE_PYTHON_REFERENCE === '1';
const torchAvailable = hasTorch();
if (!torchAvailable && !requirePython) {
  process.stderr.write('checkpoint interop tests skipped: /usr/bin/python3 has no torch (apt-get install python3-torch)\n');
}

describe('save and load', () => {
  it('round-trips: identical predictions, metadata as given plus what the manager fills', async () => {
    const m = tmp();
    const manager = new CheckpointManager(m);
    const a = model();
    const dir = await manager.save(a, meta(), { featureSelector: { selected: ['a'] }, study: { trials: 3 } });
    expect(path.basename(dir)).toMatch(/^v1_\d{8}T\d{9}Z$/);
    expect(readdirSync(dir).sort()).toEqual(['feature_selector.json', 'metadata.json', 'model.safetensors', 'study.json']);
    const loaded = await manager.load(dir);
    expect(Array.from(loaded.model.predict(input).position)).toEqual(Array.from(a.predict(input).position));
    expect(loaded.metadata.version).toBe(1);
    expect(loaded.metadata.schemaVersion).toBe(1);
    expect(loaded.metadata.config).toEqual({ ...a.config });
    expect(loaded.metadata.nFeatures).toBe(5);
    expect(loaded.metadata.normalization!.stds).toEqual([1, 1, 2, 2, 3]);
    expect(loaded.metadata.files['model.safetensors']!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.featureSelector).toEqual({ selected: ['a'] });
    expect(loaded.study).toEqual({ trials: 3 });
    expect(loaded.metadata.gitCommit === null || /^[0-9a-f]{40}$/.test(loaded.metadata.gitCommit)).toBe(true);
  });

  it('auto-increments versions per model type; list, loadLatest and prune', async () => {
    const manager = new CheckpointManager(tmp());
    const a = model();
    const p1 = await manager.save(a, meta());
    const p2 = await manager.save(a, meta({ oos: { sharpe: 2, totalReturn: 0.1, maxDrawdown: 0.02 } }));
    const q1 = await manager.save(a, meta({ modelType: 'other' }));
    expect(path.basename(q1)).toMatch(/^v1_/);
    const list = await manager.list('tft');
    expect(list.map((c) => c.version)).toEqual([1, 2]);
    expect(list.map((c) => c.path)).toEqual([p1, p2]);
    expect((await manager.list()).length).toBe(3);
    expect((await manager.loadLatest('tft')).metadata.oos!.sharpe).toBe(2);
    await manager.save(a, meta());
    expect(await manager.prune('tft', { keep: 1 })).toEqual([p1, p2]);
    expect((await manager.list('tft')).map((c) => c.version)).toEqual([3]);
    // versions are never reused after a prune
    expect(path.basename(await manager.save(a, meta()))).toMatch(/^v4_/);
    await expect(manager.loadLatest('nothing-here')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('rejects schema violations when saving', async () => {
    const manager = new CheckpointManager(tmp());
    await expect(manager.save(model(), meta({ featureNames: ['a'] }))).rejects.toThrow(/featureNames/);
    await expect(manager.save(model(), meta({ normalization: { names: ['a', 'b', 'c', 'd', 'e'], means: [0, 0, 0, 0, 0], stds: [1, 0, 1, 1, 1] } }))).rejects.toBeInstanceOf(SchemaError);
    expect(await manager.list()).toEqual([]);
  });

  it('rejects hostile model types: traversal, absolute paths, separators, NUL, empty', async () => {
    const manager = new CheckpointManager(tmp());
    for (const bad of ['..', '../x', '/etc', 'a/b', 'a\\b', '', '.hidden', 'x\u0000y']) {
      await expect(manager.save(model(), meta({ modelType: bad }))).rejects.toBeInstanceOf(UnsafePathError);
      await expect(manager.list(bad)).rejects.toBeInstanceOf(UnsafePathError);
    }
    // a model-type folder that is a symlink leading outside the root is refused too
    const root = tmp();
    const outside = tmp();
    symlinkSync(outside, path.join(root, 'escape'));
    await expect(new CheckpointManager(root).save(model(), meta({ modelType: 'escape' }))).rejects.toBeInstanceOf(UnsafePathError);
    expect(readdirSync(outside)).toEqual([]);
  });
});

describe('integrity: tampered, truncated, mismatched, foreign', () => {
  async function saved() {
    const manager = new CheckpointManager(tmp());
    const dir = await manager.save(model(), meta());
    return { manager, dir };
  }
  it('a modified weight byte is a sha256 mismatch naming the file', async () => {
    const { manager, dir } = await saved();
    const f = path.join(dir, 'model.safetensors');
    const bytes = readFileSync(f);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0x40, bytes.length - 3);
    writeFileSync(f, bytes);
    await expect(manager.load(dir)).rejects.toThrow(/model\.safetensors: sha256 mismatch/);
  });
  it('a truncated file is caught by its size', async () => {
    const { manager, dir } = await saved();
    const f = path.join(dir, 'model.safetensors');
    writeFileSync(f, readFileSync(f).subarray(0, 100));
    await expect(manager.load(dir)).rejects.toThrow(/bytes, metadata says .* \(truncated or replaced\)/);
  });
  it('edited metadata, invalid JSON, a missing or an extra file', async () => {
    const { manager, dir } = await saved();
    const mf = path.join(dir, 'metadata.json');
    const doc = JSON.parse(readFileSync(mf, 'utf8'));
    writeFileSync(mf, JSON.stringify({ ...doc, nFeatures: 'five' }));
    await expect(manager.load(dir)).rejects.toBeInstanceOf(SchemaError);
    writeFileSync(mf, '{ not json');
    await expect(manager.load(dir)).rejects.toThrow(/not valid JSON/);
    writeFileSync(mf, JSON.stringify(doc));
    writeFileSync(path.join(dir, 'payload.py'), 'import os');
    await expect(manager.load(dir)).rejects.toThrow(/payload\.py: not part of the checkpoint/);
  });
  it('weights whose tensors do not match the config are refused before anything is built', async () => {
    const { manager, dir } = await saved();
    // swap in weights of another architecture, with matching hashes so only the shape check can catch it
    const other = TFTModel.create({ nFeatures: 5, dHidden: 16, nHeads: 2, seqLen: 6, nEntities: 2 });
    const f = path.join(dir, 'model.safetensors');
    await other.saveWeights(f);
    const mf = path.join(dir, 'metadata.json');
    const doc = JSON.parse(readFileSync(mf, 'utf8'));
    const { createHash } = await import('node:crypto');
    const b = readFileSync(f);
    doc.files['model.safetensors'] = { sha256: createHash('sha256').update(b).digest('hex'), bytes: b.length };
    writeFileSync(mf, JSON.stringify(doc));
    await expect(manager.load(dir)).rejects.toBeInstanceOf(StateDictError);
    await expect(manager.load(dir)).rejects.toThrow(/entity_embedding\.weight' has shape \[2, 16\], the config needs \[2, 8\]/);
  });
  it('a folder that is not a checkpoint', async () => {
    const manager = new CheckpointManager(tmp());
    await expect(manager.load(path.join(manager.root, 'nope'))).rejects.toBeInstanceOf(NotFoundError);
    const empty = path.join(manager.root, 'tft', 'v9_20260101T000000000Z');
    mkdirSync(empty, { recursive: true });
    await expect(manager.load(empty)).rejects.toBeInstanceOf(CorruptFileError);
    const scan = await manager.scan('tft');
    expect(scan.checkpoints).toEqual([]);
    expect(scan.issues[0]!.path).toBe(empty);
  });
});

function runSaver(root: string, type: string, count: number, seed: number) {
  return spawn(process.execPath, ['--import', 'tsx', SAVER, root, type, String(count), String(seed)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('concurrency and crashes', () => {
  it('several processes saving at once each get their own version, all loadable', async () => {
    const root = tmp();
    const kids = [0, 1, 2, 3].map((i) => runSaver(root, 'race', 3, i));
    const outputs = await Promise.all(
      kids.map(
        (k) =>
          new Promise<string>((resolve, reject) => {
            let out = '';
            k.stdout.on('data', (d) => (out += d));
            k.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`saver exited ${code}`))));
          }),
      ),
    );
    const paths = outputs.join('').trim().split('\n');
    expect(paths).toHaveLength(12);
    const manager = new CheckpointManager(root);
    const versions = (await manager.list('race')).map((c) => c.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const p of paths) (await manager.load(p)).model.dispose();
  }, 180_000);

  it('a process killed in the middle of saves never leaves a partial checkpoint visible', async () => {
    const root = tmp();
    const manager = new CheckpointManager(root);
    let killedMidway = 0;
    let leftBehind = 0;
    for (let round = 0; round < 20; round++) {
      const k = runSaver(root, 'crash', 50, round);
      // kill after the child has started saving: at a random point between writes and renames
      await new Promise<void>((resolve) => {
        let seen = 0;
        k.stdout.on('data', (d: Buffer) => {
          seen += d.toString().split('\n').filter(Boolean).length;
          if (seen >= 1) setTimeout(() => k.kill('SIGKILL'), Math.floor(Math.random() * 40));
        });
        k.on('exit', () => resolve());
      });
      if (k.signalCode === 'SIGKILL') killedMidway++;
      // a temporary folder left behind means the kill landed in the middle of a save
      if (existsSync(path.join(root, 'crash')) && readdirSync(path.join(root, 'crash')).some((n) => n.startsWith('.tmp-'))) leftBehind++;
      const listed = await manager.scan('crash');
      expect(listed.issues).toEqual([]);
    }
    expect(leftBehind).toBeGreaterThan(5);
    expect(killedMidway).toBeGreaterThan(15);
    const { checkpoints, issues } = await manager.scan('crash');
    expect(issues).toEqual([]);
    expect(checkpoints.length).toBeGreaterThanOrEqual(20);
    for (const c of checkpoints) (await manager.load(c.path)).model.dispose();
    // leftovers of the killed processes are temporary folders, invisible to list and removed by cleanup
    const leftovers = readdirSync(path.join(root, 'crash')).filter((n) => n.startsWith('.tmp-'));
    const removed = await manager.cleanup('crash');
    expect(removed.length).toBe(leftovers.length);
    expect(readdirSync(path.join(root, 'crash')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  }, 300_000);
});

describe.runIf(torchAvailable || requirePython)('interop with the PyTorch reference (reference/checkpoint_interop.py)', () => {
  const script = path.join(ROOT, 'reference/checkpoint_interop.py');
  it('a checkpoint saved by tft-native loads into PyTorch with the same predictions', async () => {
    const manager = new CheckpointManager(tmp());
    const a = model();
    const dir = await manager.save(a, meta());
    const work = tmp();
    const inputs = path.join(work, 'inputs.safetensors');
    writeSafetensors(inputs, { x: { shape: [3, 6, 5], data: input.x }, entity: { shape: [3], data: Float32Array.from(input.entityIds) } });
    const out = path.join(work, 'out.safetensors');
    execFileSync('/usr/bin/python3', [script, 'predict', dir, inputs, out]);
    const py = await readSafetensors(out);
    const mine = a.predict(input, { vsnWeights: true });
    const diff = (x: Float32Array, y: Float32Array) => Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
    expect(diff(mine.position, py.get('position')!.data)).toBeLessThanOrEqual(1e-5);
    expect(diff(mine.sigma, py.get('sigma')!.data)).toBeLessThanOrEqual(1e-5);
    expect(diff(mine.vsnWeights!, py.get('vsn_weights')!.data)).toBeLessThanOrEqual(1e-5);
  });
  it('weights saved from PyTorch load into tft-native with the same predictions', async () => {
    const work = tmp();
    const cfg = { nFeatures: 7, dHidden: 12, nHeads: 3, lstmLayers: 2, seqLen: 9, nEntities: 3, dropout: 0.1, maxPosition: 0.5 };
    writeFileSync(path.join(work, 'config.json'), JSON.stringify(cfg));
    execFileSync('/usr/bin/python3', [script, 'export', path.join(work, 'config.json'), work, '5']);
    const m = TFTModel.create(cfg);
    await m.loadWeights(path.join(work, 'model.safetensors'));
    const io = await readSafetensors(path.join(work, 'inputs.safetensors'));
    const ref = await readSafetensors(path.join(work, 'predictions.safetensors'));
    const x = io.get('x')!;
    const p = m.predict({ x: x.data, batch: x.shape[0]!, steps: x.shape[1], entityIds: Int32Array.from(io.get('entity')!.data) });
    const diff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    expect(diff(p.position, ref.get('position')!.data)).toBeLessThanOrEqual(1e-5);
    expect(diff(p.mu, ref.get('mu')!.data)).toBeLessThanOrEqual(1e-5);
  });
});

/** Minimal safetensors writer for test inputs (float32 only). */
function writeSafetensors(file: string, tensors: Record<string, { shape: number[]; data: Float32Array }>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while (json.length % 8) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, Buffer.from(json), ...Object.values(tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]));
}

describe('CLI', () => {
  it('checkpoints list and show', async () => {
    const manager = new CheckpointManager(tmp());
    const dir = await manager.save(model(), meta());
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
    try {
      expect(await main(['checkpoints', 'list', '--root', manager.root])).toBe(0);
      expect(out).toMatch(/tft\s+1\s/);
      expect(out).toContain(dir);
      out = '';
      expect(await main(['checkpoints', 'show', dir, '--json'])).toBe(0);
      const shown = JSON.parse(out);
      expect(shown.verified).toBe(true);
      expect(shown.metadata.version).toBe(1);
    } finally {
      process.stdout.write = write;
    }
    writeFileSync(path.join(dir, 'model.safetensors'), 'garbage');
    expect(await main(['checkpoints', 'show', dir])).toBe(1);
    expect(existsSync(dir)).toBe(true);
  });
});
