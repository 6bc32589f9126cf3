/**
 * Storage specs: a StudyStorage as it is; 'journal:<path>' or a path ending in .log / .jsonl (an Optuna
 * journal file); 'postgresql://…' or 'postgres://…' (PostgreSQL, for many machines); nothing (in memory).
 */
import { InvalidArgumentError } from '../../errors.js';
import { JournalStorage } from './journal-storage.js';
import type { StudyStorage } from './storage.js';

export type StorageSpec = StudyStorage | string | undefined;

export function openStorage(spec: StorageSpec): Promise<StudyStorage> {
  if (spec === undefined) return Promise.resolve(JournalStorage.memory());
  if (typeof spec !== 'string') return Promise.resolve(spec);
  if (/^postgres(ql)?:\/\//.test(spec)) return import('./postgres-storage.js').then((m) => new m.PostgresStorage(spec));
  if (spec.startsWith('journal:')) return Promise.resolve(JournalStorage.file(spec.slice('journal:'.length)));
  if (/\.(log|jsonl)$/.test(spec)) return Promise.resolve(JournalStorage.file(spec));
  throw new InvalidArgumentError(
    `storage: expected 'journal:<path>', a path ending in .log or .jsonl, or a postgresql:// URL, got '${spec}'`,
    'storage',
  );
}
