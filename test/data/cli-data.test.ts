/** `tft-native data info` and `tft-native data features`, run through the CLI's main(). */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { main } from '../../lib/cli/main.js';
import { featureCatalogue } from '../../lib/data/feature-catalogue.js';
import { bundledDataPath } from '../../lib/data/market-data-store.js';
import { TempDir } from './helpers.js';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('tft-native data', () => {
  it('info describes the bundled Dow 30 by default', async () => {
    const r = await run(['data', 'info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dowjones30.csv');
    expect(r.stdout).toMatch(/symbols\s+30/);
    expect(r.stdout).toContain('1990-12-31 … 2001-01-02');
    expect(r.stdout).toMatch(/rows\s+75870/);
    expect(r.stdout).toContain('missing days');
  });

  it('info --json reports missing-day statistics of a file with gaps', async () => {
    const tmp = new TempDir();
    try {
      const f = tmp.file('gaps.csv', 'date,symbol,close\n2020-01-01,A,1\n2020-01-02,A,2\n2020-01-03,A,3\n2020-01-04,A,4\n2020-01-01,B,1\n2020-01-04,B,2\n');
      const r = await run(['data', 'info', '--data', f, '--json', '--max-fill-days', '1']);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as { filledDays: number; unfilledDays: number; symbolsWithGaps: number; calendarDays: number };
      expect(j).toMatchObject({ calendarDays: 4, filledDays: 1, unfilledDays: 1, symbolsWithGaps: 1 });
    } finally {
      tmp.remove();
    }
  });

  it('features --list prints the catalogue with name, group, lookback and OHLCV need', async () => {
    const r = await run(['data', 'features', '--list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^name\s+group\s+lookback\s+ohlcv$/);
    expect(r.stdout).toMatch(/\nvnr_21\s+vol_norm_returns\s+118\s+no\n/);
    expect(r.stdout).toMatch(/\nparkinson_5\s+range_vol\s+4\s+yes\n/);
    expect(r.stdout).toContain(`${featureCatalogue().length} features`);
    const json = await run(['data', 'features', '--list', '--close-only', '--groups', 'rsi', '--json']);
    const specs = JSON.parse(json.stdout) as { name: string; group: string; lookback: number; needsOhlcv: boolean }[];
    expect(specs.map((s) => s.name)).toEqual(featureCatalogue({ groups: ['rsi'] }).map((s) => s.name));
  });

  it('features builds and summarises a data file by group', async () => {
    const r = await run(['data', 'features', '--data', bundledDataPath('sp500_ohlcv.csv'), '--groups', 'range_vol,rsi', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { symbols: number; days: number; features: number; hasOhlcv: boolean; groups: { group: string; nanAfterWarmup: number }[] };
    expect(j).toMatchObject({ symbols: 1, days: 5105, hasOhlcv: true });
    expect(j.features).toBe(featureCatalogue({ groups: ['range_vol', 'rsi'] }).length);
    expect(j.groups.map((g) => g.group)).toEqual(['rsi', 'range_vol']);
    for (const g of j.groups) expect(g.nanAfterWarmup).toBe(0);
  });

  it('typed errors exit with code 1 and a message', async () => {
    const r = await run(['data', 'info', '--data', 'no-such-file.csv']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no-such-file.csv: no such file [ERR_NOT_FOUND]');
    const g = await run(['data', 'features', '--list', '--groups', 'nope']);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain("unknown feature group 'nope'");
  });
});
