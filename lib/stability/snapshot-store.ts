/**
 * SnapshotStore: `{baseDir}/{target}/{method}/{runId}.json`, the layout of the Python stability tool's
 * archives, so they are read in place.
 *
 * Target and method names are validated path components (assertSafeName: no `..`, separators, NUL, absolute
 * paths, leading dots, empty); every path is checked to stay inside baseDir, symlinks included, so nothing
 * outside it is read or written. Writes are atomic (temporary file + fsync, then a hard link to the final
 * name, which fails if that name exists) and run ids are UUIDv4, so concurrent writers never collide and a
 * caller-supplied run id never silently replaces an existing snapshot (ConflictError, unless
 * `overwrite: true`). A file that cannot be read or is not a snapshot (an empty one included) is reported
 * with its path and the reason, skipped, and left in place.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import { ConflictError, CorruptFileError, InvalidArgumentError, IoError, NotFoundError } from '../errors.js';
import { fsyncPath, writeFileAtomic, writeFileDurable } from '../io/atomic-write.js';
import { assertSafeName, resolveInside } from '../io/safe-path.js';
import { parseSnapshot, parseTimestamp, sortImportance, SNAPSHOT_SCHEMA_VERSION, type Snapshot } from './snapshot.js';

export const DEFAULT_BASE_DIR = 'artifacts/feature_importance';

export interface StoreIssue {
  path: string;
  reason: string;
}

export interface SnapshotInput {
  targetName: string;
  method: string;
  universeId?: string | null;
  /** Names and values in any order; stored sorted by importance, descending. */
  features: readonly string[];
  importances: ArrayLike<number>;
  runId?: string;
  createdAt?: string;
  fold?: number | null;
  seed?: number | null;
  gitCommit?: string | null;
  metadata?: Record<string, unknown>;
  /** Replace an existing snapshot with the same run id (default false: ConflictError). */
  overwrite?: boolean;
}

export interface GroupKey {
  targetName: string;
  method: string;
  universeId: string | null;
}

/** A group's display label, `target/method[universe]`. Not unique (method `m[x]` vs method `m`, universe `x`). */
export function groupId(g: GroupKey): string {
  return `${g.targetName}/${g.method}${g.universeId ? `[${g.universeId}]` : ''}`;
}

/** A group's identity: the (target, method, universe) tuple as JSON, unique for every distinct tuple. */
export function groupKey(g: GroupKey): string {
  return JSON.stringify([g.targetName, g.method, g.universeId]);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const compareGroups = (a: GroupKey, b: GroupKey) =>
  cmp(a.targetName, b.targetName) ||
  cmp(a.method, b.method) ||
  (a.universeId === b.universeId ? 0 : a.universeId === null ? -1 : b.universeId === null ? 1 : cmp(a.universeId, b.universeId));

/** Snapshots split by (target, method, universe), groups ordered by target, method, then universe (none first). */
export function groupSnapshots<S extends Snapshot>(snapshots: readonly S[]): Array<{ group: GroupKey; snapshots: S[] }> {
  const groups = new Map<string, { group: GroupKey; snapshots: S[] }>();
  for (const s of snapshots) {
    const key = groupKey(s);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { group: { targetName: s.targetName, method: s.method, universeId: s.universeId }, snapshots: [] }));
    g.snapshots.push(s);
  }
  return [...groups.values()].sort((a, b) => compareGroups(a.group, b.group));
}

/**
 * Writes `content` to `file` atomically without replacing an existing file: a temporary file is made
 * durable and hard-linked to the final name (link fails with EEXIST when the name is taken, atomically, so
 * two writers of one run id cannot both win). On file systems without hard links, an existence check and a
 * rename stand in: best effort, the race window is the check.
 */
async function writeFileExclusive(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomUUID()}`);
  try {
    await writeFileDurable(tmp, content);
    try {
      await link(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST')
        throw new ConflictError(`${file}: a snapshot with this run id already exists (pass overwrite: true to replace it)`, 'runId');
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
      if (
        await stat(file).then(
          () => true,
          () => false,
        )
      )
        throw new ConflictError(`${file}: a snapshot with this run id already exists (pass overwrite: true to replace it)`, 'runId');
      await writeFileAtomic(file, content);
    }
    await fsyncPath(dir);
  } catch (e) {
    if (e instanceof ConflictError || e instanceof IoError) throw e;
    throw new IoError(`${file}: write failed (${(e as Error).message})`, file, { cause: e });
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Runs `fn` over items with at most `limit` in flight. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class SnapshotStore {
  readonly baseDir: string;

  constructor(baseDir: string = DEFAULT_BASE_DIR) {
    this.baseDir = path.resolve(baseDir);
  }

  #dir(target: string, method: string): string {
    return resolveInside(this.baseDir, assertSafeName(target, 'targetName'), assertSafeName(method, 'method'));
  }

  /** Validates, sorts by importance and writes one snapshot atomically; returns it with its path. */
  async save(input: SnapshotInput): Promise<{ path: string; snapshot: Snapshot }> {
    assertSafeName(input.targetName, 'targetName');
    assertSafeName(input.method, 'method');
    if (input.universeId !== undefined && input.universeId !== null) assertSafeName(input.universeId, 'universeId');
    if (input.features.length !== input.importances.length) {
      throw new InvalidArgumentError(`importance: ${input.features.length} names but ${input.importances.length} values`, 'importance');
    }
    // An empty snapshot says nothing about stability and would be an all-absent row in every rank kernel.
    if (input.features.length === 0)
      throw new InvalidArgumentError('importance: no features; a snapshot needs at least one (feature, importance) pair', 'importance');
    const sorted = sortImportance(input.features, input.importances);
    const runId = input.runId ?? randomUUID();
    assertSafeName(runId, 'runId');
    const snapshot = parseSnapshot(
      {
        schemaVersion: SNAPSHOT_SCHEMA_VERSION,
        targetName: input.targetName,
        method: input.method,
        universeId: input.universeId ?? null,
        runId,
        createdAt: input.createdAt ?? new Date().toISOString(),
        ...sorted,
        fold: input.fold ?? null,
        seed: input.seed ?? null,
        gitCommit: input.gitCommit ?? null,
        metadata: input.metadata ?? {},
      },
      'snapshot',
    );
    const dir = this.#dir(snapshot.targetName, snapshot.method);
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new IoError(`${dir}: cannot create the snapshot folder (${(e as Error).message})`, dir, { cause: e });
    }
    const file = resolveInside(dir, `${runId}.json`);
    const text = JSON.stringify(snapshot, null, 2) + '\n';
    if (input.overwrite) await writeFileAtomic(file, text);
    else await writeFileExclusive(file, text);
    return { path: file, snapshot };
  }

  /** One snapshot file, validated. */
  async load(file: string): Promise<Snapshot> {
    return this.#read(resolveInside(this.baseDir, path.relative(this.baseDir, path.resolve(file))));
  }

  // `file` is already known to lie inside baseDir (and not to be a symbolic link).
  async #read(file: string): Promise<Snapshot> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new NotFoundError(`${file}: cannot read (${(e as Error).message})`, file);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new CorruptFileError(`${file}: not valid JSON (${(e as Error).message})`, file);
    }
    const needsTime = !!doc && typeof doc === 'object' && !('schemaVersion' in doc) && !('created_at' in doc) && !('timestamp' in doc);
    return parseSnapshot(doc, file, needsTime ? (await stat(file)).mtime.toISOString() : '');
  }

  async #subdirs(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.')).map((e) => e.name);
  }

  /**
   * Every snapshot under baseDir (or one target / method), read with bounded concurrency. Files that fail
   * (unreadable, not JSON, not a snapshot, no features, or a path escaping baseDir) are returned in `issues`.
   * `universeId`: undefined = every universe, null = only snapshots without one, a string = that universe.
   */
  async list(
    filter: { targetName?: string; method?: string; universeId?: string | null } = {},
  ): Promise<{ snapshots: Array<Snapshot & { path: string }>; issues: StoreIssue[] }> {
    const targets = filter.targetName !== undefined ? [assertSafeName(filter.targetName, 'targetName')] : await this.#subdirs(this.baseDir);
    const files: string[] = [];
    const issues: StoreIssue[] = [];
    for (const t of targets) {
      let tdir: string;
      try {
        tdir = resolveInside(this.baseDir, t);
      } catch (e) {
        issues.push({ path: path.join(this.baseDir, t), reason: (e as Error).message });
        continue;
      }
      const methods = filter.method !== undefined ? [assertSafeName(filter.method, 'method')] : await this.#subdirs(tdir);
      for (const m of methods) {
        let mdir: string;
        try {
          mdir = resolveInside(this.baseDir, t, m);
        } catch (e) {
          issues.push({ path: path.join(tdir, m), reason: (e as Error).message });
          continue;
        }
        for (const e of await readdir(mdir, { withFileTypes: true }).catch(() => [])) {
          if (!e.name.endsWith('.json') || e.name.startsWith('.')) continue;
          // Snapshot files are never followed through links: the folder was checked, and a regular file
          // inside it cannot point elsewhere.
          if (e.isSymbolicLink()) issues.push({ path: path.join(mdir, e.name), reason: 'symbolic link not followed' });
          else if (e.isFile()) files.push(path.join(mdir, e.name));
        }
      }
    }
    files.sort(cmp); // file-name order decides which of two files sharing a run id is counted
    const read = await mapLimit(files, 64, async (file) => {
      try {
        const snap = (await this.#read(file)) as Snapshot & { path: string };
        snap.path = file;
        return { snap };
      } catch (e) {
        return { issue: { path: file, reason: (e as Error).message } };
      }
    });
    const snapshots: Array<Snapshot & { path: string }> = [];
    const runIds = new Map<string, string>(); // group key + run id -> the file that had it first
    for (const r of read) {
      if ('snap' in r && r.snap) {
        const s = r.snap;
        // The folder is the snapshot's identity for every reader: a file whose content names another
        // target or method is misfiled, and is reported rather than analysed under either.
        const [t, m] = path.relative(this.baseDir, s.path).split(path.sep);
        if (s.targetName !== t || s.method !== m) {
          issues.push({
            path: s.path,
            reason: `misfiled: its content says target '${s.targetName}', method '${s.method}' but it is stored under ${t}/${m}`,
          });
          continue;
        }
        if (filter.universeId !== undefined && s.universeId !== filter.universeId) continue;
        const id = `${groupKey(s)}\u0000${s.runId}`;
        const first = runIds.get(id);
        if (first !== undefined) {
          issues.push({ path: s.path, reason: `run id '${s.runId}' already used by ${first} in the same group: not counted twice` });
          continue;
        }
        runIds.set(id, s.path);
        snapshots.push(s);
      } else if ('issue' in r && r.issue) issues.push(r.issue);
    }
    // Chronological (timestamps of different forms and offsets compared as instants), then by run id.
    const time = new Map(snapshots.map((s) => [s, parseTimestamp(s.createdAt)]));
    snapshots.sort((a, b) => time.get(a)! - time.get(b)! || cmp(a.runId, b.runId));
    return { snapshots, issues };
  }

  /** The (target, method, universe) groups present in the store. */
  async groups(): Promise<{ groups: GroupKey[]; issues: StoreIssue[] }> {
    const { snapshots, issues } = await this.list();
    return { groups: groupSnapshots(snapshots).map((g) => g.group), issues };
  }
}
