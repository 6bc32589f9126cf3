/**
 * Fuzz worker: loads each case of a JSON-lines file through the public API and reports, per case, a line
 * `start <id>` before and `done <id> <json>` after, so the supervisor (supervisor.ts) can tell a crash or
 * a hang from the case that caused it. Outcomes: ok (accepted), typed (a TftError, with its code), untyped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { CheckpointManager, MarketDataStore, SnapshotStore, TftError } from '../../lib/index.js';
import type { FuzzCase } from './cases.js';

async function run(c: FuzzCase): Promise<void> {
  if (c.kind === 'checkpoint') {
    const root = path.dirname(path.dirname(c.path));
    const loaded = await new CheckpointManager(root).load(c.path);
    loaded.model.dispose();
    await new CheckpointManager(root).scan();
  } else if (c.kind === 'csv') {
    const store = await MarketDataStore.open(c.path);
    try {
      await store.panel();
    } finally {
      await store.close();
    }
  } else {
    const store = new SnapshotStore(c.path);
    await store.list();
    await store.load(path.join(c.path, 't', 'm', 'r1.json'));
  }
}

const cases = readFileSync(process.argv[2]!, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as FuzzCase);
const skip = Number(process.argv[3] ?? 0);
for (const c of cases.slice(skip)) {
  process.stdout.write(`start ${c.id}\n`);
  let outcome: { outcome: string; code?: string; message?: string };
  try {
    await run(c);
    outcome = { outcome: 'ok' };
  } catch (e) {
    outcome =
      e instanceof TftError
        ? { outcome: 'typed', code: e.code }
        : { outcome: 'untyped', message: `${(e as Error)?.name}: ${(e as Error)?.message}` };
  }
  process.stdout.write(`done ${c.id} ${JSON.stringify(outcome)}\n`);
}
