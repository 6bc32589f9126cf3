/**
 * A feature-importance snapshot: one run's importances for one (target, method[, universe]).
 *
 * Written form (schemaVersion 1, camelCase):
 *   { schemaVersion, targetName, method, universeId, runId, createdAt, features, importances,
 *     fold, seed, gitCommit, metadata }
 * with features sorted by importance, descending (equal importances ordered by feature name, UTF-16 code-unit
 * order, on write and on read: the tie order every metric uses), importances in the same order, at least one
 * feature, and createdAt an ISO-8601 timestamp.
 *
 * Read also: the snake_case files written by the Python stability tool (target_name, method, universe_id,
 * run_id, created_at or timestamp, feature_names or features, importance_values or importances or values,
 * optional fold, seed, git_commit, metadata), so existing archives can be analysed as they are.
 */
import { z } from 'zod';

import { SchemaError } from '../errors.js';

export const SNAPSHOT_SCHEMA_VERSION = 1;

// ISO-8601 calendar date, optionally with a time of day (T, or a space as Python's str(datetime) writes it),
// fractional seconds and a UTC offset. Files written by the Python stability tool carry
// datetime.isoformat(): no offset.
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Milliseconds since the epoch of an ISO-8601 timestamp (one without an offset is read as UTC, so files of
 * one writer sort in their own clock's order), or NaN when `s` is not one (bad form or an impossible date).
 */
export function parseTimestamp(s: string): number {
  const m = ISO_TIMESTAMP.exec(s);
  if (!m) return Number.NaN;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || h > 23 || mi > 59 || sec > 59) return Number.NaN;
  const days = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  if (d! > days) return Number.NaN;
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  let offset = 0;
  const z = m[8];
  if (z && z !== 'Z') {
    const oh = Number(z.slice(1, 3));
    const om = z.length > 3 ? Number(z.slice(-2)) : 0;
    if (oh > 23 || om > 59) return Number.NaN;
    offset = (z[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const t = new Date(0);
  t.setUTCFullYear(y!, mo! - 1, d!);
  t.setUTCHours(h, mi, sec, 0);
  return t.getTime() + frac - offset;
}

export function isIsoTimestamp(s: unknown): s is string {
  return typeof s === 'string' && !Number.isNaN(parseTimestamp(s));
}

export const SnapshotSchema = z
  .object({
    schemaVersion: z.literal(SNAPSHOT_SCHEMA_VERSION),
    targetName: z.string().min(1),
    method: z.string().min(1),
    universeId: z.string().min(1).nullable(),
    runId: z.string().min(1),
    createdAt: z.string().refine(isIsoTimestamp, 'must be an ISO-8601 timestamp (e.g. 2026-01-05T12:00:00Z)'),
    features: z.array(z.string().min(1)).min(1, 'a snapshot needs at least one feature'),
    importances: z.array(z.number().refine(Number.isFinite, 'must be finite')),
    fold: z.number().int().nullable(),
    seed: z.number().int().nullable(),
    gitCommit: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .strict()
  .refine((s) => s.features.length === s.importances.length, {
    message: 'features and importances differ in length',
    path: ['importances'],
  })
  .refine((s) => new Set(s.features).size === s.features.length, { message: 'duplicate feature names', path: ['features'] })
  .refine((s) => s.importances.every((v, i) => i === 0 || v <= s.importances[i - 1]!), {
    message: 'importances must be sorted in descending order',
    path: ['importances'],
  });

export type Snapshot = z.output<typeof SnapshotSchema>;

const PythonSnapshotSchema = z
  .object({
    target_name: z.string().min(1),
    method: z.string().min(1),
    universe_id: z.string().min(1).nullable().optional(),
    run_id: z.string().min(1),
    created_at: z.string().optional(),
    timestamp: z.string().optional(),
    feature_names: z.array(z.string()).optional(),
    features: z.array(z.string()).optional(),
    importance_values: z.array(z.number()).optional(),
    importances: z.array(z.number()).optional(),
    values: z.array(z.number()).optional(),
    fold: z.number().int().nullable().optional(),
    seed: z.number().int().nullable().optional(),
    git_commit: z.string().nullable().optional(),
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .passthrough();

/** Sorts (name, value) pairs by value descending, ties by name (code-unit order): the stored order. */
export function sortImportance(names: readonly string[], values: ArrayLike<number>): { features: string[]; importances: number[] } {
  const idx = names
    .map((_, i) => i)
    .sort((a, b) => values[b]! - values[a]! || (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  return { features: idx.map((i) => names[i]!), importances: idx.map((i) => values[i]!) };
}

function firstIssue(e: z.ZodError, where: string): SchemaError {
  const issue = e.issues[0]!;
  const field = issue.path.join('.') || '(root)';
  return new SchemaError(`${where}: ${field}: ${issue.message}`, field);
}

/**
 * A direct check of the written form, with the same rules as SnapshotSchema: reading thousands of
 * snapshots spends most of its time validating, and this loop is several times faster than the schema.
 * Anything it does not accept goes through the schema, which names the offending field.
 */
function fastValid(d: Record<string, unknown>): d is Snapshot {
  const keys = Object.keys(d);
  if (keys.length !== 12 || d.schemaVersion !== SNAPSHOT_SCHEMA_VERSION) return false;
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  const intOrNull = (v: unknown) => v === null || Number.isInteger(v);
  if (!str(d.targetName) || !str(d.method) || !str(d.runId) || !isIsoTimestamp(d.createdAt)) return false;
  if (!(d.universeId === null || str(d.universeId)) || !intOrNull(d.fold) || !intOrNull(d.seed)) return false;
  if (!(d.gitCommit === null || typeof d.gitCommit === 'string')) return false;
  if (typeof d.metadata !== 'object' || d.metadata === null || Array.isArray(d.metadata)) return false;
  const f = d.features;
  const v = d.importances;
  if (!Array.isArray(f) || !Array.isArray(v) || f.length !== v.length || f.length === 0) return false;
  const seen = new Set<string>();
  let prev = Number.POSITIVE_INFINITY;
  let prevName = '';
  for (let i = 0; i < f.length; i++) {
    const name = f[i];
    const x = v[i];
    if (typeof name !== 'string' || name.length === 0 || seen.has(name)) return false;
    if (typeof x !== 'number' || !Number.isFinite(x) || x > prev) return false;
    // A tie out of name order is valid but not canonical: the slow path reorders it.
    if (x === prev && name < prevName) return false;
    seen.add(name);
    prev = x;
    prevName = name;
  }
  return true;
}

/** The snapshot with equal importances ordered by name, so every reader sees the same tie order. */
function canonicalTies(s: Snapshot): Snapshot {
  for (let i = 1; i < s.features.length; i++) {
    if (s.importances[i] === s.importances[i - 1] && s.features[i]! < s.features[i - 1]!)
      return { ...s, ...sortImportance(s.features, s.importances) };
  }
  return s;
}

/**
 * Parses either written form; throws SchemaError naming the field for anything else. `fallbackCreatedAt`
 * (e.g. the file's mtime) stands in for a snake_case file without a timestamp.
 */
export function parseSnapshot(doc: unknown, where: string, fallbackCreatedAt = ''): Snapshot {
  if (doc && typeof doc === 'object' && 'schemaVersion' in doc) {
    if (fastValid(doc as Record<string, unknown>)) return doc as Snapshot;
    const r = SnapshotSchema.safeParse(doc);
    if (!r.success) throw firstIssue(r.error, where);
    return canonicalTies(r.data);
  }
  if (doc && typeof doc === 'object' && 'target_name' in doc) {
    const r = PythonSnapshotSchema.safeParse(doc);
    if (!r.success) throw firstIssue(r.error, where);
    const p = r.data;
    const names = p.feature_names ?? p.features;
    const values = p.importance_values ?? p.importances ?? p.values;
    if (!names || !values)
      throw new SchemaError(
        `${where}: a snake_case snapshot needs feature_names (or features) and importance_values (or importances)`,
        'feature_names',
      );
    const sorted = sortImportance(names, values);
    return parseSnapshot(
      {
        schemaVersion: SNAPSHOT_SCHEMA_VERSION,
        targetName: p.target_name,
        method: p.method,
        universeId: p.universe_id ?? null,
        runId: p.run_id,
        createdAt: p.created_at ?? p.timestamp ?? fallbackCreatedAt,
        ...sorted,
        fold: p.fold ?? null,
        seed: p.seed ?? null,
        gitCommit: p.git_commit ?? null,
        metadata: p.metadata ?? {},
      },
      where,
    );
  }
  throw new SchemaError(`${where}: not a feature-importance snapshot (no schemaVersion or target_name)`, '(root)');
}
