/**
 * Seeded generators of malformed inputs for the fuzz suite: checkpoint folders (truncations, bit flips,
 * header-length and offset abuse, dtypes, shape overflow, duplicate keys, metadata edits), CSV price files
 * and snapshot files. Each case is written to disk and described by a small JSON record that the worker
 * (worker.ts) knows how to load; the same seed always gives the same cases.
 */
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { METADATA_DIGEST_KEY, canonicalJson, metadataDigest } from '../../lib/checkpoint/metadata.js';
import { Xoshiro128 } from '../../lib/random/prng.js';

export type CaseKind = 'checkpoint' | 'csv' | 'snapshot';
export interface FuzzCase {
  id: number;
  kind: CaseKind;
  mutation: string;
  /** checkpoint: the folder; csv: the file; snapshot: the store's base dir. */
  path: string;
  /** Whether loading it must fail: every byte of a checkpoint is covered by its sha256s and digest. */
  mustFail: boolean;
}

class Rand {
  readonly r: Xoshiro128;
  constructor(seed: number) {
    this.r = new Xoshiro128(seed);
  }
  int(n: number): number {
    return Math.floor(this.r.uniform() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Rewrites metadata.json's size and sha256 of one file, so the mutation reaches the parsers behind them. */
function reforgeFileEntry(folder: string, name: string): void {
  const metaFile = path.join(folder, 'metadata.json');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { files: Record<string, { sha256: string; bytes: number }> };
  const b = readFileSync(path.join(folder, name));
  meta.files[name] = { sha256: sha256(b), bytes: b.length };
  writeFileSync(metaFile, JSON.stringify(meta, null, 2));
}

function sameDocument(a: string, b: string): boolean {
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

function headerOf(weights: Buffer): { n: number; json: string } {
  const n = Number(weights.readBigUInt64LE(0));
  return { n, json: weights.subarray(8, 8 + n).toString('utf8') };
}

function withHeader(weights: Buffer, json: string): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const { n } = headerOf(weights);
  return Buffer.concat([len, Buffer.from(json), weights.subarray(8 + n)]);
}

/**
 * A parsed safetensors header: an object per tensor (dtype, shape, data_offsets) and `__metadata__`. The
 * edits write values of the wrong type on purpose, so the fields are unknown.
 */
type Header = Record<string, Record<string, unknown>>;

const HEADER_EDITS: [string, (j: Header) => void][] = [
  [
    'dtype F64',
    (j) => {
      first(j).dtype = 'F64';
    },
  ],
  [
    'dtype unknown',
    (j) => {
      first(j).dtype = 'Q7';
    },
  ],
  [
    'shape overflow',
    (j) => {
      first(j).shape = [4294967296, 4294967296, 16];
    },
  ],
  [
    'negative shape',
    (j) => {
      first(j).shape = [-1];
    },
  ],
  [
    'offsets past the end',
    (j) => {
      first(j).data_offsets = [0, 2 ** 52];
    },
  ],
  [
    'offsets reversed',
    (j) => {
      const o = first(j).data_offsets as [number, number];
      first(j).data_offsets = [o[1], o[0]];
    },
  ],
  [
    'overlapping offsets',
    (j) => {
      const t = Object.keys(j).filter((k) => k !== '__metadata__');
      j[t[1]!]!.data_offsets = j[t[0]!]!.data_offsets;
    },
  ],
  [
    'missing tensor',
    (j) => {
      delete j[firstTensor(j)];
    },
  ],
  [
    'extra tensor',
    (j) => {
      j['extra.weight'] = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
    },
  ],
  [
    'metadata not strings',
    (j) => {
      j.__metadata__ = { digest: 5 };
    },
  ],
  [
    'deep nesting',
    (j) => {
      first(j).shape = [[[[[[[[[[1]]]]]]]]]];
    },
  ],
];

function firstTensor(j: Record<string, unknown>): string {
  return Object.keys(j).find((k) => k !== '__metadata__')!;
}

/** The first tensor's entry. */
function first(j: Header): Record<string, unknown> {
  return j[firstTensor(j)]!;
}

function checkpointCase(rand: Rand, template: string, dir: string, id: number): FuzzCase {
  const folder = path.join(dir, `ck-${id}`, 'tft', path.basename(template));
  cpSync(template, folder, { recursive: true });
  const wf = path.join(folder, 'model.safetensors');
  const mf = path.join(folder, 'metadata.json');
  const w = readFileSync(wf);
  const kind = rand.int(9);
  let mutation: string;
  if (kind === 0) {
    const at = rand.int(w.length);
    writeFileSync(wf, w.subarray(0, at));
    mutation = `weights truncated at ${at}`;
  } else if (kind === 1) {
    const b = Buffer.from(w);
    const bit = rand.int(b.length * 8);
    b[bit >> 3]! ^= 1 << (bit & 7);
    writeFileSync(wf, b);
    mutation = `weights bit ${bit} flipped`;
  } else if (kind === 2) {
    const b = Buffer.from(w);
    const bit = rand.int(Math.min(b.length, 8 + headerOf(w).n) * 8);
    b[bit >> 3]! ^= 1 << (bit & 7);
    writeFileSync(wf, b);
    reforgeFileEntry(folder, 'model.safetensors');
    mutation = `header bit ${bit} flipped, sha re-forged`;
  } else if (kind === 3) {
    const b = Buffer.from(w);
    const v = rand.pick([0n, 1n, 7n, BigInt(w.length), BigInt(w.length) - 8n, 2n ** 63n, 2n ** 64n - 1n, BigInt(rand.int(1e9))]);
    b.writeBigUInt64LE(v, 0);
    writeFileSync(wf, b);
    reforgeFileEntry(folder, 'model.safetensors');
    mutation = `header length ${v}, sha re-forged`;
  } else if (kind === 4) {
    const [name, edit] = rand.pick(HEADER_EDITS);
    const j = JSON.parse(headerOf(w).json) as Header;
    edit(j);
    writeFileSync(wf, withHeader(w, JSON.stringify(j)));
    reforgeFileEntry(folder, 'model.safetensors');
    mutation = `header ${name}, sha re-forged`;
  } else if (kind === 5) {
    const { json } = headerOf(w);
    const k = firstTensor(JSON.parse(json) as Record<string, unknown>);
    const dupe = json.replace(`"${k}":`, `"${k}":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"${k}":`);
    writeFileSync(wf, withHeader(w, dupe));
    reforgeFileEntry(folder, 'model.safetensors');
    mutation = 'header duplicate key, sha re-forged';
  } else if (kind === 6) {
    const text = readFileSync(mf, 'utf8');
    const at = rand.int(text.length);
    const edits = ['', '0', '"', '{', '}', ',', '-1', '1e999', 'null', '\u0000', '[]'];
    const edited = text.slice(0, at) + rand.pick(edits) + text.slice(at + rand.int(4));
    writeFileSync(mf, edited);
    mutation = `metadata.json edited at ${at}`;
    // An edit of whitespace only leaves the same document (the digest covers the parsed JSON): accepting
    // it is correct.
    if (sameDocument(text, edited))
      return { id, kind: 'checkpoint', mutation: `${mutation} (whitespace only)`, path: folder, mustFail: false };
  } else {
    const meta = JSON.parse(readFileSync(mf, 'utf8')) as Record<string, unknown>;
    const field = rand.pick(['version', 'nFeatures', 'config', 'featureNames', 'createdAt', 'modelType', 'normalization', 'nAssets']);
    const value = rand.pick([null, -1, 0, 1e308, 'x', [], {}, '../../etc', { nFeatures: 1e9, dHidden: 4096 }]);
    if (field === 'config' && value !== null && typeof value === 'object' && !Array.isArray(value))
      meta.config = { ...(meta.config as Record<string, unknown>), ...value };
    else meta[field] = value;
    const before = readFileSync(mf, 'utf8');
    writeFileSync(mf, JSON.stringify(meta));
    mutation = `metadata.${field} replaced`;
    // Merging {} into config changes nothing: accepting that document is correct.
    if (sameDocument(before, JSON.stringify(meta)))
      return { id, kind: 'checkpoint', mutation: `${mutation} (unchanged)`, path: folder, mustFail: false };
    if (kind === 8) {
      // The digest re-forged into the weights (and their sha into metadata.json): only the schema and the
      // config-against-header checks stand between this edit and a model.
      const j = JSON.parse(headerOf(w).json) as Header;
      j.__metadata__ = { ...(j.__metadata__ ?? {}), [METADATA_DIGEST_KEY]: metadataDigest(meta) };
      writeFileSync(wf, withHeader(w, JSON.stringify(j)));
      reforgeFileEntry(folder, 'model.safetensors');
      mutation += ', digest re-forged';
      return { id, kind: 'checkpoint', mutation, path: folder, mustFail: false };
    }
  }
  return { id, kind: 'checkpoint', mutation, path: folder, mustFail: true };
}

const CSV_BASE = [
  'date,symbol,open,high,low,close,volume',
  '2020-01-02,AA,10,11,9,10.5,1000',
  '2020-01-03,AA,10.5,12,10,11,1200',
  '2020-01-02,BB,20,21,19,20.5,500',
  '2020-01-03,BB,20.5,22,20,21,700',
];
const CSV_TOKENS = [
  '',
  ',',
  '"',
  '""',
  '\n',
  '\r\n',
  '1_000',
  '0x1F',
  '2020/01/02',
  '2020-1-2',
  '0000-01-01',
  '10000-01-01',
  'nan',
  'inf',
  '-5',
  '1e309',
  '\u0000',
  '\t',
  ';',
  'é',
  '12,5',
  '  ',
  'close',
  'NULL',
  '9'.repeat(400),
];

function csvCase(rand: Rand, dir: string, id: number): FuzzCase {
  const lines = [...CSV_BASE];
  const edits = 1 + rand.int(3);
  const what: string[] = [];
  for (let e = 0; e < edits; e++) {
    const li = rand.int(lines.length);
    const cells = lines[li]!.split(',');
    const op = rand.int(4);
    if (op === 0) {
      const c = rand.int(cells.length);
      cells[c] = rand.pick(CSV_TOKENS);
      what.push(`row ${li + 1} cell ${c} replaced`);
    } else if (op === 1) {
      cells.splice(rand.int(cells.length), 1);
      what.push(`row ${li + 1} cell dropped`);
    } else if (op === 2) {
      cells.splice(rand.int(cells.length + 1), 0, rand.pick(CSV_TOKENS));
      what.push(`row ${li + 1} cell inserted`);
    } else {
      lines.splice(li, 0, lines[li]!);
      what.push(`row ${li + 1} duplicated`);
    }
    if (op !== 3) lines[li] = cells.join(',');
  }
  const file = path.join(dir, `csv-${id}.csv`);
  writeFileSync(file, lines.join('\n') + '\n');
  return { id, kind: 'csv', mutation: what.join('; '), path: file, mustFail: false };
}

function snapshotCase(rand: Rand, template: string, dir: string, id: number): FuzzCase {
  const base = path.join(dir, `snap-${id}`);
  cpSync(template, base, { recursive: true });
  const file = path.join(base, 't', 'm', 'r1.json');
  const text = readFileSync(file, 'utf8');
  const op = rand.int(3);
  let mutation: string;
  if (op === 0) {
    const at = rand.int(text.length);
    writeFileSync(file, text.slice(0, at));
    mutation = `snapshot truncated at ${at}`;
  } else if (op === 1) {
    const doc = JSON.parse(text) as Record<string, unknown>;
    const field = rand.pick(['features', 'importance', 'runId', 'createdAt', 'targetName', 'schemaVersion']);
    doc[field] = rand.pick([null, -1, 'x', [], {}, [Number.MAX_VALUE], ['a', 'a']]);
    writeFileSync(file, JSON.stringify(doc));
    mutation = `snapshot.${field} replaced`;
  } else {
    const at = rand.int(text.length);
    writeFileSync(file, text.slice(0, at) + rand.pick(['\u0000', '{', ']', '"', 'NaN', '1e999']) + text.slice(at));
    mutation = `snapshot edited at ${at}`;
  }
  return { id, kind: 'snapshot', mutation, path: base, mustFail: false };
}

/** `n` cases in the proportions 40% checkpoints, 45% CSV, 15% snapshot stores. */
export function generateCases(seed: number, n: number, dir: string, templates: { checkpoint: string; snapshots: string }): FuzzCase[] {
  const rand = new Rand(seed);
  const out: FuzzCase[] = [];
  for (let id = 0; id < n; id++) {
    const u = rand.int(100);
    if (u < 40) out.push(checkpointCase(rand, templates.checkpoint, dir, id));
    else if (u < 85) out.push(csvCase(rand, dir, id));
    else out.push(snapshotCase(rand, templates.snapshots, dir, id));
  }
  return out;
}
