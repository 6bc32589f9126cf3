/**
 * CheckpointManager: versioned, atomic, integrity-checked checkpoints.
 *
 * Layout: `{root}/{modelType}/v{version}_{timestamp}/` with `model.safetensors` (float32 weights, readable by
 * PyTorch without code execution), `metadata.json` (CheckpointMetadata with the sha256 of every other file),
 * and optionally `feature_selector.json` and `study.json`. The safetensors header carries the digest of the
 * metadata (metadataDigest), so metadata.json cannot be edited without load noticing.
 *
 * Save is atomic: files go to `{root}/{modelType}/.tmp-{pid}-{uuid}/`, each fsynced, then one rename puts
 * the folder in place and the parent directory is fsynced. A crash leaves either the complete checkpoint or
 * a `.tmp-*` folder that list/load ignore and a later save removes (when its process is gone).
 *
 * Versions are reserved with mkdir of `{root}/{modelType}/.version-{n}`, which the file system grants to
 * exactly one process: concurrent savers each get their own version. Markers are never removed, so a
 * version is never reused, even after prune; a crash between reservation and rename leaves a gap.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import {
  CorruptFileError,
  InvalidArgumentError,
  IoError,
  NotFoundError,
  SchemaError,
  StateDictError,
  TftError,
  UnsafePathError,
} from '../errors.js';
import { TFTModel, parameterSpecsFor, readSafetensorsHeader, type Device, type SafetensorsHeader } from '../model/tft-model.js';
import { fsyncPath, writeFileDurable } from '../io/atomic-write.js';
import { readRegularFile, regularFileStream } from '../io/regular-file.js';
import { assertSafeName, resolveInside } from '../io/safe-path.js';
import { findDuplicateKey } from '../io/strict-json.js';
import {
  METADATA_DIGEST_KEY,
  METADATA_SCHEMA_VERSION,
  metadataDigest,
  validateMetadata,
  type CheckpointMetadata,
  type CheckpointMetadataInput,
} from './metadata.js';

export const WEIGHTS_FILE = 'model.safetensors';
export const METADATA_FILE = 'metadata.json';
export const SELECTOR_FILE = 'feature_selector.json';
export const STUDY_FILE = 'study.json';
const OPTIONAL_FILES = new Set([SELECTOR_FILE, STUDY_FILE]);
const CHECKPOINT_DIR = /^v(\d+)_(\d{8}T\d{6}\d{3}Z)$/;
const GIT_TIMEOUT_MS = 5000;

export interface SaveOptions {
  /** The feature selector's state (any JSON value), stored as feature_selector.json. */
  featureSelector?: unknown;
  /** The tuner's study (any JSON value), stored as study.json. */
  study?: unknown;
  /** The commit to record (null: none); by default HEAD of the repository containing `repository`. */
  gitCommit?: string | null;
  /** Whether the working tree differed from gitCommit (only with an explicit gitCommit; default null). */
  gitDirty?: boolean | null;
  /** A folder inside the git working tree to record (default: the current directory). */
  repository?: string;
}

export interface CheckpointSummary {
  path: string;
  modelType: string;
  version: number;
  createdAt: string;
  nFeatures: number;
  nAssets: number;
  oos: CheckpointMetadata['oos'];
  gitCommit: string | null;
}

export interface ScanIssue {
  path: string;
  reason: string;
}

export interface LoadedCheckpoint {
  model: TFTModel;
  metadata: CheckpointMetadata;
  path: string;
  /** Files verified and their extra contents. */
  featureSelector?: unknown;
  study?: unknown;
}

async function sha256File(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  // 1 MiB reads: a fraction of the default's per-chunk overhead on weight files, with bounded memory.
  for await (const chunk of await regularFileStream(file, 1 << 20)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** The folder-name form of createdAt: UTC, `YYYYMMDDTHHMMSSmmmZ`. */
export function checkpointTimestamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '');
}

function git(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // --no-optional-locks: `status` would otherwise refresh (and lock) the index of the user's checkout.
    execFile(
      'git',
      ['--no-optional-locks', ...args],
      { cwd, encoding: 'utf8', timeout: GIT_TIMEOUT_MS, windowsHide: true },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

/** HEAD and whether tracked files differ from it; nulls outside a repository or without git. */
async function gitState(cwd: string): Promise<{ commit: string | null; dirty: boolean | null }> {
  let commit: string;
  try {
    commit = (await git(['rev-parse', '--verify', 'HEAD'], cwd)).trim();
  } catch {
    return { commit: null, dirty: null };
  }
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) return { commit: null, dirty: null };
  const dirty = await git(['status', '--porcelain', '--untracked-files=no'], cwd).then(
    (out) => out.trim().length > 0,
    () => null,
  );
  return { commit, dirty };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function io(e: unknown, what: string, p: string): never {
  if (e instanceof TftError) throw e;
  throw new IoError(`${p}: ${what} failed (${(e as Error).message})`, p, { cause: e });
}

/** An optional file of a verified checkpoint (its sha256 matched): JSON, or CorruptFileError. */
async function readListedJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readRegularFile(file));
  } catch (e) {
    throw new CorruptFileError(`${file}: not valid JSON (${(e as Error).message})`, file);
  }
}

/** Reads metadata.json of a folder: schema, and that the folder is where that metadata says it belongs. */
async function readMetadataOf(folder: string): Promise<{ metadata: CheckpointMetadata; digest: string }> {
  const file = path.join(folder, METADATA_FILE);
  let text: string;
  try {
    text = await readRegularFile(file);
  } catch (e) {
    if (e instanceof IoError) throw new CorruptFileError(`${e.message} (a checkpoint's files are regular files)`, file);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      const exists = await stat(folder).then(
        () => true,
        () => false,
      );
      throw exists ? new CorruptFileError(`${file}: missing`, file) : new NotFoundError(`${folder}: no such checkpoint`, folder);
    }
    io(e, 'reading', file);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CorruptFileError(`${file}: not valid JSON (${(e as Error).message})`, file);
  }
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw new CorruptFileError(`${file}: key '${dup}' appears twice (ambiguous JSON)`, file);
  const metadata = validateMetadata(doc, file);
  // A folder copied or renamed by hand must not pass for another version or model type: list, loadLatest
  // and prune go by these names.
  const expected = `v${metadata.version}_${checkpointTimestamp(new Date(metadata.createdAt))}`;
  if (path.basename(folder) !== expected) {
    throw new CorruptFileError(
      `${file}: version ${metadata.version}, created ${metadata.createdAt}, belongs in a folder named ${expected}, not ${path.basename(folder)}`,
      file,
    );
  }
  if (path.basename(path.dirname(folder)) !== metadata.modelType) {
    throw new CorruptFileError(
      `${file}: model type '${metadata.modelType}', but the checkpoint lies under '${path.basename(path.dirname(folder))}'`,
      file,
    );
  }
  // The digest is taken over the document as stored, before zod fills any default.
  return { metadata, digest: metadataDigest(doc as Record<string, unknown>) };
}

async function safetensorsHeaderBytes(file: string): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(8);
    const { bytesRead } = await fh.read(b, 0, 8, 0);
    if (bytesRead < 8) throw new CorruptFileError(`${file}: shorter than a safetensors header`, file);
    return Number(b.readBigUInt64LE(0));
  } finally {
    await fh.close();
  }
}

/**
 * The config's parameters against the file's header: the same names, float32, the same shapes, and a file
 * exactly as long as those tensors need. Nothing is allocated from the config before this has passed.
 */
async function checkTensorsAgainstConfig(
  metadata: CheckpointMetadata,
  header: SafetensorsHeader,
  weights: string,
  bytes: number,
  metaFile: string,
): Promise<void> {
  let specs: { name: string; shape: number[] }[];
  try {
    specs = parameterSpecsFor(metadata.config);
  } catch (e) {
    if (!(e instanceof TftError)) throw e;
    throw new SchemaError(`${metaFile}: ${e.message}`, e.argument ?? 'config');
  }
  const have = new Map(header.tensors.map((t) => [t.name, t]));
  let dataBytes = 0;
  for (const spec of specs) {
    const t = have.get(spec.name);
    if (!t) throw new StateDictError(`${weights}: tensor '${spec.name}' is missing`, spec.name);
    if (t.shape.join(',') !== spec.shape.join(',')) {
      throw new StateDictError(
        `${weights}: tensor '${spec.name}' has shape [${t.shape.join(', ')}], the config needs [${spec.shape.join(', ')}]`,
        spec.name,
      );
    }
    if (t.dtype !== 'F32') throw new StateDictError(`${weights}: tensor '${spec.name}' is ${t.dtype}, checkpoints hold F32`, spec.name);
    dataBytes += 4 * spec.shape.reduce((a, b) => a * b, 1);
    have.delete(spec.name);
  }
  if (have.size > 0) throw new StateDictError(`${weights}: unexpected tensors ${[...have.keys()].join(', ')}`, [...have.keys()][0]);
  const expected = 8 + (await safetensorsHeaderBytes(weights)) + dataBytes;
  if (bytes !== expected) throw new CorruptFileError(`${weights}: ${bytes} bytes, the config's tensors need ${expected}`, weights);
}

/** Every file metadata.json lists, by size and sha256, and no file it does not list; returns the weights' size. */
async function verifyListedFiles(folder: string, metadata: CheckpointMetadata): Promise<number> {
  const metaFile = path.join(folder, METADATA_FILE);
  const listed = new Set(Object.keys(metadata.files));
  if (!listed.has(WEIGHTS_FILE)) throw new CorruptFileError(`${metaFile}: lists no ${WEIGHTS_FILE}`, metaFile);
  for (const name of await readdir(folder)) {
    if (name !== METADATA_FILE && !listed.has(name)) {
      throw new CorruptFileError(
        `${path.join(folder, name)}: not part of the checkpoint (unlisted in metadata.json)`,
        path.join(folder, name),
      );
    }
  }
  let weightBytes = 0;
  for (const [name, entry] of Object.entries(metadata.files)) {
    if (name !== WEIGHTS_FILE && !OPTIONAL_FILES.has(name))
      throw new CorruptFileError(`${metaFile}: lists an unknown file '${name}'`, metaFile);
    const file = resolveInside(folder, name);
    let actual: { sha256: string; bytes: number };
    try {
      actual = await sha256File(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CorruptFileError(`${file}: missing`, file);
      if (e instanceof IoError) throw new CorruptFileError(`${e.message} (a checkpoint's files are regular files)`, file);
      io(e, 'reading', file);
    }
    if (actual.bytes !== entry.bytes)
      throw new CorruptFileError(`${file}: ${actual.bytes} bytes, metadata says ${entry.bytes} (truncated or replaced)`, file);
    if (actual.sha256 !== entry.sha256) throw new CorruptFileError(`${file}: sha256 mismatch (modified since it was saved)`, file);
    if (name === WEIGHTS_FILE) weightBytes = actual.bytes;
  }
  return weightBytes;
}

/** The weights' header, after checking that it records the digest of this metadata.json. */
function headerWithDigest(folder: string, digest: string): SafetensorsHeader {
  const weights = path.join(folder, WEIGHTS_FILE);
  const metaFile = path.join(folder, METADATA_FILE);
  const header = readSafetensorsHeader(weights);
  const recorded = header.metadata[METADATA_DIGEST_KEY];
  if (recorded === undefined)
    throw new CorruptFileError(
      `${weights}: no '${METADATA_DIGEST_KEY}' in the safetensors metadata (not written as a checkpoint)`,
      weights,
    );
  if (recorded !== digest)
    throw new CorruptFileError(
      `${metaFile}: edited since it was saved (its digest differs from the one recorded in ${WEIGHTS_FILE})`,
      metaFile,
    );
  return header;
}

export interface LoadOptions {
  /** Where the model is built: 'cuda' needs a CUDA libtorch and a GPU (CudaUnavailableError otherwise). */
  device?: Device;
}

/**
 * Verifies and loads a checkpoint folder: metadata schema and placement, the size and sha256 of every
 * file, no unlisted file, the metadata digest recorded in the weights, and every tensor's name, dtype and
 * shape against the config, all before building the model.
 */
async function loadCheckpointFolder(folder: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
  const { metadata, digest } = await readMetadataOf(folder);
  const weightBytes = await verifyListedFiles(folder, metadata);
  const weights = path.join(folder, WEIGHTS_FILE);
  const header = headerWithDigest(folder, digest);
  await checkTensorsAgainstConfig(metadata, header, weights, weightBytes, path.join(folder, METADATA_FILE));
  const model = TFTModel.create(metadata.config, { device: opts.device ?? 'cpu' });
  try {
    await model.loadWeights(weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const extra: Partial<LoadedCheckpoint> = {};
  if (Object.hasOwn(metadata.files, SELECTOR_FILE)) extra.featureSelector = await readListedJson(path.join(folder, SELECTOR_FILE));
  if (Object.hasOwn(metadata.files, STUDY_FILE)) extra.study = await readListedJson(path.join(folder, STUDY_FILE));
  return { model, metadata, path: folder, ...extra };
}

export class CheckpointManager {
  readonly root: string;
  #versionClashes = 0;

  constructor(root = 'checkpoints') {
    this.root = path.resolve(root);
  }

  /**
   * How often this manager found the version it tried to reserve already taken (by another process or a
   * concurrent save of its own) and moved on to the next one. For tests and diagnostics.
   */
  get versionClashes(): number {
    return this.#versionClashes;
  }

  #typeDir(modelType: string): string {
    return resolveInside(this.root, assertSafeName(modelType, 'modelType'));
  }

  async #reserveVersion(dir: string): Promise<number> {
    const names = await readdir(dir).catch(() => [] as string[]);
    let max = 0;
    for (const n of names) {
      const m = /^\.version-(\d+)$/.exec(n) ?? CHECKPOINT_DIR.exec(n);
      if (m) max = Math.max(max, Number(m[1]));
    }
    for (let v = max + 1; ; v++) {
      try {
        await mkdir(path.join(dir, `.version-${v}`));
        return v;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') io(e, 'reserving a version', dir);
        this.#versionClashes++;
      }
    }
  }

  /** Removes `.tmp-*` folders left by processes that no longer run. Returns what it removed. */
  async cleanup(modelType?: string): Promise<string[]> {
    const types = modelType !== undefined ? [modelType] : await this.#modelTypes();
    const removed: string[] = [];
    for (const t of types) {
      const dir = this.#typeDir(t);
      for (const n of await readdir(dir).catch(() => [] as string[])) {
        const m = /^\.tmp-(\d+)-/.exec(n);
        if (m && (Number(m[1]) === process.pid ? false : !pidAlive(Number(m[1])))) {
          await rm(path.join(dir, n), { recursive: true, force: true });
          removed.push(path.join(dir, n));
        }
      }
    }
    return removed;
  }

  async #modelTypes(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  }

  /** Writes a new checkpoint of `metadata.modelType` atomically and returns its folder. */
  async save(model: TFTModel, input: CheckpointMetadataInput, opts: SaveOptions = {}): Promise<string> {
    const dir = this.#typeDir(input.modelType);
    const git =
      opts.gitCommit !== undefined
        ? { commit: opts.gitCommit, dirty: opts.gitDirty ?? null }
        : await gitState(opts.repository ?? process.cwd());
    await mkdir(dir, { recursive: true }).catch((e) => io(e, 'creating the checkpoint folder', dir));
    await this.cleanup(input.modelType);
    const tmp = path.join(dir, `.tmp-${process.pid}-${randomUUID()}`);
    await mkdir(tmp).catch((e) => io(e, 'creating a temporary folder', tmp));
    try {
      const files: CheckpointMetadata['files'] = {};
      for (const [name, value] of [
        [SELECTOR_FILE, opts.featureSelector],
        [STUDY_FILE, opts.study],
      ] as const) {
        if (value === undefined) continue;
        await writeFileDurable(path.join(tmp, name), JSON.stringify(value, null, 2) + '\n');
        files[name] = await sha256File(path.join(tmp, name));
      }
      // The version comes before the weights: the weights file carries the digest of metadata that
      // includes the version.
      const version = await this.#reserveVersion(dir);
      const created = new Date();
      const metadata = validateMetadata(
        {
          ...input,
          schemaVersion: METADATA_SCHEMA_VERSION,
          version,
          createdAt: created.toISOString(),
          gitCommit: git.commit,
          gitDirty: git.dirty,
          nFeatures: model.config.nFeatures,
          config: { ...model.config },
          normalization: input.normalization ?? null,
          trainingInfo: input.trainingInfo ?? null,
          featureSelection: input.featureSelection ?? null,
          hpTuning: input.hpTuning ?? null,
          oos: input.oos ?? null,
          files: {},
        },
        'metadata',
      );
      const digest = metadataDigest({ ...metadata, files }); // the optional files are hashed by now
      await model.saveWeights(path.join(tmp, WEIGHTS_FILE), { format: 'pt', modelType: input.modelType, [METADATA_DIGEST_KEY]: digest });
      files[WEIGHTS_FILE] = await sha256File(path.join(tmp, WEIGHTS_FILE));
      await writeFileDurable(path.join(tmp, METADATA_FILE), JSON.stringify({ ...metadata, files }, null, 2) + '\n');
      await fsyncPath(tmp);
      const final = path.join(dir, `v${version}_${checkpointTimestamp(created)}`);
      await rename(tmp, final).catch((e) => io(e, 'moving the checkpoint into place', final));
      await fsyncPath(dir);
      return final;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Verifies and loads a checkpoint of this root (see {@link loadCheckpointFolder} for what is checked).
   * `checkpoint` is its folder, relative to the root (`tft/v3_20260101T000000000Z`) or absolute, as save,
   * list and scan return it; a path that leads outside the root, symbolic links included, is an
   * UnsafePathError. {@link CheckpointManager.loadDirectory} loads a folder wherever it lies.
   */
  async load(checkpoint: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
    if (typeof checkpoint !== 'string' || checkpoint.length === 0)
      throw new UnsafePathError('checkpoint: must be a non-empty path', 'checkpoint');
    return loadCheckpointFolder(resolveInside(this.root, checkpoint), opts);
  }

  /** Verifies and loads a checkpoint folder wherever it lies (e.g. named on the command line), relative to the working directory. */
  static loadDirectory(dir: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
    return loadCheckpointFolder(path.resolve(dir), opts);
  }

  /** Every complete checkpoint (and the folders that look like one but fail to parse), oldest first. */
  async scan(modelType?: string): Promise<{ checkpoints: CheckpointSummary[]; issues: ScanIssue[] }> {
    // A root that does not exist yet holds no checkpoints; one that exists but is not a folder is an error.
    const rootStat = await stat(this.root).catch(() => null);
    if (rootStat && !rootStat.isDirectory()) throw new IoError(`${this.root}: the checkpoint root is not a folder`, this.root);
    const types = modelType !== undefined ? [assertSafeName(modelType, 'modelType')] : await this.#modelTypes();
    const checkpoints: CheckpointSummary[] = [];
    const issues: ScanIssue[] = [];
    for (const t of types) {
      const dir = this.#typeDir(t);
      for (const n of await readdir(dir).catch(() => [] as string[])) {
        if (!CHECKPOINT_DIR.test(n)) continue;
        const folder = path.join(dir, n);
        try {
          const { metadata: m } = await readMetadataOf(folder);
          checkpoints.push({
            path: folder,
            modelType: m.modelType,
            version: m.version,
            createdAt: m.createdAt,
            nFeatures: m.nFeatures,
            nAssets: m.nAssets,
            oos: m.oos,
            gitCommit: m.gitCommit,
          });
        } catch (e) {
          issues.push({ path: folder, reason: (e as Error).message });
        }
      }
    }
    checkpoints.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.version - b.version);
    return { checkpoints, issues };
  }

  /** Summaries of complete checkpoints, sorted by creation time. */
  async list(modelType?: string): Promise<CheckpointSummary[]> {
    return (await this.scan(modelType)).checkpoints;
  }

  /** The highest version of a model type, verified and loaded. */
  async loadLatest(modelType: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
    const all = await this.list(modelType);
    if (all.length === 0) throw new NotFoundError(`no checkpoint of model type '${modelType}' under ${this.root}`, modelType);
    const latest = all.reduce((a, b) => (b.version > a.version ? b : a));
    return loadCheckpointFolder(latest.path, opts);
  }

  /** Deletes all but the `keep` newest versions; returns the removed folders, oldest first. */
  async prune(modelType: string, opts: { keep: number }): Promise<string[]> {
    if (!Number.isInteger(opts.keep) || opts.keep < 0)
      throw new InvalidArgumentError(`keep: must be an integer >= 0, got ${opts.keep}`, 'keep');
    const all = (await this.list(modelType)).sort((a, b) => b.version - a.version);
    const removed: string[] = [];
    for (const c of all.slice(opts.keep).reverse()) {
      // Renamed out of sight first, so a half-deleted checkpoint is never listed.
      const doomed = path.join(path.dirname(c.path), `.tmp-${process.pid}-${randomUUID()}`);
      await rename(c.path, doomed).catch((e) => io(e, 'pruning', c.path));
      await rm(doomed, { recursive: true, force: true });
      removed.push(c.path);
    }
    return removed;
  }
}

/** Reads and validates a checkpoint's metadata (schema and folder placement) without loading the model. */
export async function readCheckpointMetadata(dir: string): Promise<CheckpointMetadata> {
  return (await readMetadataOf(path.resolve(dir))).metadata;
}
