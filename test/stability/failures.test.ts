/**
 * A group whose analysis throws (here: the native kernel's NonFiniteError, what an all-absent row used to
 * cause) must not take the other groups, the save that triggered it, or the CLI's other output with it.
 * analyzeGroup is replaced for target `bad` only; every other group runs the real analysis.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

import { NonFiniteError } from '../../lib/errors.js';
import { SnapshotStore, analyzeAllStabilityHook, saveSnapshotHook, type StabilityLogger } from '../../lib/index.js';
import { runCli as cli } from '../helpers/cli.js';

vi.mock('../../lib/stability/analysis.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../lib/stability/analysis.js')>();
  return {
    ...real,
    analyzeGroup: vi.fn(async (snapshots: Parameters<typeof real.analyzeGroup>[0], opts: Parameters<typeof real.analyzeGroup>[1]) => {
      if (snapshots[0]?.targetName === 'bad') throw new NonFiniteError('rankings: row 1 has no present (non-NaN) feature', 'rankings');
      return real.analyzeGroup(snapshots, opts);
    }),
  };
});

const tmp = () => mkdtempSync(path.join(tmpdir(), 'tft-stab-fail-'));

function capturingLogger(): StabilityLogger & { infos: string[]; warns: string[] } {
  const infos: string[] = [];
  const warns: string[] = [];
  return { infos, warns, info: (m) => infos.push(m), warn: (m) => warns.push(m) };
}

async function storeWithBadGroup(): Promise<string> {
  const base = tmp();
  const store = new SnapshotStore(base);
  for (const targetName of ['bad', 'good', 'zeta']) {
    for (let i = 0; i < 3; i++)
      await store.save({ targetName, method: 'm', features: ['a', 'b', 'c', 'd'], importances: [4, 3 - i, 2, 1 + i] });
  }
  return base;
}

describe('a failing group', () => {
  it('analyzeAllStabilityHook records it in errors and analyses the others', async () => {
    const base = await storeWithBadGroup();
    const log = capturingLogger();
    const { reports, errors, issues } = await analyzeAllStabilityHook({ outputDir: base, logger: log });
    expect(reports.map((r) => r.group.targetName)).toEqual(['good', 'zeta']);
    expect(reports.every((r) => r.runs === 3 && Number.isFinite(r.kendallTau.mean))).toBe(true);
    expect(errors).toEqual([
      {
        group: { targetName: 'bad', method: 'm', universeId: null },
        runs: 3,
        error: { code: 'ERR_NAN', message: 'rankings: row 1 has no present (non-NaN) feature' },
      },
    ]);
    expect(issues).toEqual([]);
    expect(log.warns.some((w) => /^bad\/m: analysis failed: .* \[ERR_NAN\]$/.test(w))).toBe(true);
  });

  it('saveSnapshotHook with auto-analysis keeps the save, warns, and returns the error', async () => {
    const base = await storeWithBadGroup();
    const log = capturingLogger();
    const save = (targetName: string) =>
      saveSnapshotHook({ targetName, method: 'm', outputDir: base, importance: { a: 1, b: 2 }, autoAnalyze: true, logger: log });
    const saved = await save('bad');
    expect(saved.report).toBeUndefined();
    expect(saved.analysisError).toEqual({ code: 'ERR_NAN', message: 'rankings: row 1 has no present (non-NaN) feature' });
    expect(readdirSync(path.join(base, 'bad', 'm'))).toContain(`${saved.snapshot.runId}.json`);
    expect(log.warns.some((w) => w.includes(`saved ${saved.path}, but analysing bad/m failed`))).toBe(true);
    const ok = await save('good');
    expect(ok.report!.runs).toBe(4);
    expect(ok.analysisError).toBeUndefined();
  });

  it('the CLI prints the other groups and exits 1 only when a group it was asked for failed', async () => {
    const base = await storeWithBadGroup();
    const all = await cli(['stability', 'analyze-all', '--base-dir', base]);
    expect(all.code).toBe(1);
    expect(all.out).toMatch(/^good\/m: 3 runs/m);
    expect(all.out).toMatch(/^zeta\/m: 3 runs/m);
    expect(all.out).toMatch(/^bad\/m: 3 runs: analysis FAILED: .*\[ERR_NAN\]$/m);
    const json = JSON.parse((await cli(['stability', 'analyze-all', '--base-dir', base, '--json'])).out);
    expect(json.reports).toHaveLength(2);
    expect(json.errors[0].error.code).toBe('ERR_NAN');
    expect((await cli(['stability', 'analyze', '--target', 'good', '--method', 'm', '--base-dir', base])).code).toBe(0);
    expect((await cli(['stability', 'analyze', '--target', 'bad', '--method', 'm', '--base-dir', base])).code).toBe(1);
  });
});
