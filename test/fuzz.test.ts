/**
 * The fuzz suite, at CI size: a few hundred seeded malformed checkpoints, CSV files and snapshot stores,
 * each loaded in a supervised child process. Nothing may crash, hang, throw an untyped error, or accept a
 * checkpoint with a changed byte. `npm run bench:fuzz` runs 10,000 cases and prints the table.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { runFuzz } from './fuzz/supervisor.js';

describe('fuzz suite (seeded, supervised child processes)', () => {
  it('300 malformed inputs: every one a typed error or a clean accept; no crash, hang, untyped error or silent accept', async () => {
    const s = await runFuzz({ seed: 20261201, cases: 300, dir: mkdtempSync(path.join(tmpdir(), 'tft-fuzz-')) });
    process.stdout.write(
      `fuzz: ${s.cases} cases, ${s.typed} typed errors, ${s.accepted} accepted, ${s.silentAccepts} silent accepts, ` +
        `${s.untyped} untyped, ${s.crashes} crashes, ${s.hangs} hangs; ${JSON.stringify(s.byKind)}\n`,
    );
    for (const f of s.failures.slice(0, 10)) process.stdout.write(`  ${f.outcome}: ${f.case.kind} ${f.case.mutation}: ${f.detail ?? ''}\n`);
    expect(s.cases).toBe(300);
    expect(s.failures).toEqual([]);
    expect(s.byKind.checkpoint!.typed).toBe(s.byKind.checkpoint!.cases - s.byKind.checkpoint!.accepted);
    expect(s.typed).toBeGreaterThan(150);
  }, 300_000);
});
