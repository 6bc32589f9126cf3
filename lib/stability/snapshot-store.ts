/**
 * SnapshotStore: `{baseDir}/{target}/{method}/{runId}.json`, the seed's layout.
 *
 * Target and method names are validated path components (assertSafeName: no `..`, separators, NUL, absolute
 * paths, leading dots, empty); every path is checked to stay inside baseDir, symlinks included, so nothing
 * outside it is read or written. Writes are atomic (temporary file + fsync + rename) and run ids are UUIDv4,
 * so concurrent writers never collide. A file that cannot be read or is not a snapshot is reported with its
 * path and the reason, skipped, and left in place.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { assertSafeName, resolveInside } from '../io/safe-path.js';
import { parseSnapshot, sortImportance, SNAPSHOT_SCHEMA_VERSION, type Snapshot } from './snapshot.js';

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
}

export interface GroupKey {
  targetName: string;
  method: string;
  universeId: string | null;
}

export function groupId(g: GroupKey): string {
  return `${g.targetName}/${g.method}${g.universeId ? `[${g.universeId}]` : ''}`;
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
    await mkdir(dir, { recursive: true });
    const file = resolveInside(dir, `${runId}.json`);
    await writeFileAtomic(file, JSON.stringify(snapshot, null, 2) + '\n');
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
    const doc: unknown = JSON.parse(text);
    const needsTime = !!doc && typeof doc === 'object' && !('schemaVersion' in doc) && !('created_at' in doc) && !('timestamp' in doc);
    return parseSnapshot(doc, file, needsTime ? (await stat(file)).mtime.toISOString() : '');
  }

  async #subdirs(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.')).map((e) => e.name);
  }

  /**
   * Every snapshot under baseDir (or one target / method), read with bounded concurrency. Files that fail
   * (unreadable, not JSON, not a snapshot, or a path escaping baseDir) are returned in `issues`.
   */
  async list(filter: { targetName?: string; method?: string; universeId?: string | null } = {}): Promise<{ snapshots: Array<Snapshot & { path: string }>; issues: StoreIssue[] }> {
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
    const read = await mapLimit(files, 64, async (file) => {
      try {
        const snap = (await this.#read(file)) as Snapshot & { path: string };
        snap.path = file;
        return { snap };
      } catch (e) {
        return { issue: { path: file, reason: e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message } };
      }
    });
    const snapshots: Array<Snapshot & { path: string }> = [];
    for (const r of read) {
      if ('snap' in r && r.snap) {
        if (filter.universeId !== undefined && r.snap.universeId !== filter.universeId) continue;
        snapshots.push(r.snap);
      } else if ('issue' in r && r.issue) issues.push(r.issue);
    }
    snapshots.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
    return { snapshots, issues };
  }

  /** The (target, method, universe) groups present in the store. */
  async groups(): Promise<{ groups: GroupKey[]; issues: StoreIssue[] }> {
    const { snapshots, issues } = await this.list();
    const seen = new Map<string, GroupKey>();
    for (const s of snapshots) {
      const g = { targetName: s.targetName, method: s.method, universeId: s.universeId };
      seen.set(groupId(g), g);
    }
    return { groups: [...seen.values()].sort((a, b) => groupId(a).localeCompare(groupId(b))), issues };
  }
}
