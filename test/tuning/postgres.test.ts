/**
 * The PostgreSQL study storage against a real server: a study's round trip, guarded updates, several
 * worker processes racing on one study (no duplicate trial, no lost result), and a dead worker's trial
 * reclaimed through its missing heartbeats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ConflictError } from '../../lib/errors.js';
import { createStudy, loadStudy, RandomSampler, stateName, TrialPruned, TrialState } from '../../lib/tuning/index.js';
import { PostgresStorage } from '../../lib/tuning/storage/postgres-storage.js';
import { testPostgres } from '../helpers/postgres.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WORKER = path.join(ROOT, 'test/workers/tune-worker.ts');
const pg = testPostgres();
if (!pg.url) process.stderr.write(`PostgreSQL storage tests skipped: ${pg.reason}\n`);
afterAll(() => pg.stop());
const withPg = pg.url ? it : it.skip;
const unique = (name: string) => `${name}-${process.pid}-${Date.now()}`;

function runWorker(storage: string, name: string, n: number, seed: number, sleepMs: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER, storage, name, String(n), String(seed), String(sleepMs)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
const exited = (p: ChildProcess) => new Promise<number | null>((r) => p.on('exit', (code) => r(code)));

describe('PostgreSQL storage', () => {
  withPg(
    'keeps a study: states, params of every kind, NaN intermediate values, the best trial; finished trials stay finished',
    async () => {
      const name = unique('roundtrip');
      const study = await createStudy({ studyName: name, storage: pg.url, direction: 'maximize', sampler: new RandomSampler({ seed: 2 }) });
      await study.optimize(
        async (t) => {
          const x = t.suggestFloat('x', -1, 1);
          const c = t.suggestCategorical('c', ['a', null, true, 3]);
          const n = t.suggestInt('n', 1, 16, { log: true });
          await t.report(t.number === 1 ? Number.NaN : x, 0);
          if (t.number === 2) throw new TrialPruned();
          return x + (c === null ? 1 : 0) + Math.log(n);
        },
        { nTrials: 6 },
      );
      await study.storage.close();
      const again = await loadStudy({ studyName: name, storage: pg.url! });
      const trials = await again.refresh();
      expect(trials.map((t) => stateName(t.state))).toEqual(study.trials.map((t) => stateName(t.state)));
      expect(trials.map((t) => t.params)).toEqual(study.trials.map((t) => t.params));
      expect(trials.map((t) => t.value)).toEqual(study.trials.map((t) => t.value));
      expect(Number.isNaN(trials[1]!.intermediateValues.get(0))).toBe(true);
      expect(trials[2]!.state).toBe(TrialState.PRUNED);
      expect(again.bestTrial.number).toBe(study.bestTrial.number);
      await expect(again.storage.setTrialState(trials[0]!.trialId, TrialState.FAIL)).rejects.toThrow(ConflictError);
      await expect(createStudy({ studyName: name, storage: again.storage })).rejects.toThrow(ConflictError);
      await again.storage.close();
    },
  );

  withPg('worker processes racing on one study: every trial number once, every result kept', async () => {
    const name = unique('race');
    const s = await createStudy({ studyName: name, storage: pg.url });
    await s.storage.close();
    const workers = [0, 1, 2, 3].map((i) => runWorker(pg.url!, name, 6, 200 + i, 5));
    expect(await Promise.all(workers.map(exited))).toEqual([0, 0, 0, 0]);
    const study = await loadStudy({ studyName: name, storage: pg.url! });
    const trials = await study.refresh();
    expect(trials.map((t) => t.number)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(trials.every((t) => t.state === TrialState.COMPLETE && t.intermediateValues.size === 2)).toBe(true);
    await study.storage.close();
  });

  withPg('a worker killed mid-trial stops sending heartbeats: the next worker fails its trial and re-runs its parameters', async () => {
    const name = unique('reclaim');
    const s = await createStudy({ studyName: name, storage: pg.url });
    await s.storage.close();
    const worker = runWorker(pg.url!, name, 20, 9, 2000);
    let out = '';
    worker.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (out.includes('done 0')) {
          clearInterval(t);
          resolve();
        }
      }, 20);
    });
    await new Promise((r) => setTimeout(r, 300));
    worker.kill('SIGKILL');
    await exited(worker);
    const storage = new PostgresStorage(pg.url!, { heartbeatGrace: 1 });
    const study = await loadStudy({ studyName: name, storage });
    const running = (await study.refresh()).filter((t) => t.state === TrialState.RUNNING);
    expect(running.map((t) => t.number)).toEqual([1]);
    await new Promise((r) => setTimeout(r, 1500));
    await study.optimize((t) => (t.suggestFloat('x', -5, 5) - 1) ** 2 + (t.suggestCategorical('k', [1, 2, 3]) as number), { nTrials: 1 });
    const trials = await study.refresh();
    expect(trials[1]!.state).toBe(TrialState.FAIL);
    expect(trials[1]!.userAttrs.fail_reason).toMatch(/worker died/);
    const retry = trials.at(-1)!;
    expect(retry.state).toBe(TrialState.COMPLETE);
    expect(retry.params).toEqual(running[0]!.params);
    expect(retry.userAttrs.retry_of).toBe(1);
    await storage.close();
  });
});
