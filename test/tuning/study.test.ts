/**
 * The study API (Optuna's shape) and its journal: states, best trial, pruning, enqueued trials, errors;
 * Optuna itself reading a study written here and the reverse; a torn or corrupted journal; a worker killed
 * mid-trial and resumed; several worker processes racing on one journal.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, lutimesSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConflictError, CorruptFileError, InvalidArgumentError, NotFoundError } from '../../lib/errors.js';
import {
  createStudy,
  JournalStorage,
  loadStudy,
  MedianPruner,
  RandomSampler,
  stateName,
  TPESampler,
  TrialPruned,
  TrialState,
} from '../../lib/tuning/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WORKER = path.join(ROOT, 'test/workers/tune-worker.ts');
const INTEROP = path.join(ROOT, 'reference/optuna_interop.py');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'tft-tune-'));

const hasOptuna = spawnSync('/usr/bin/python3', ['-c', 'import optuna'], { stdio: 'ignore' }).status === 0;
const requirePython = process.env.TFT_REQUIRE_PYTHON_REFERENCE === '1';
if (!hasOptuna && !requirePython)
  process.stderr.write('Optuna interop tests skipped: /usr/bin/python3 has no optuna (apt-get install python3-optuna)\n');
const withOptuna = hasOptuna || requirePython ? it : it.skip;

function python(...args: string[]): unknown {
  const r = spawnSync('/usr/bin/python3', [INTEROP, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`optuna_interop.py ${args[0]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

interface PyTrial {
  number: number;
  state: string;
  value: number | null;
  params: Record<string, unknown>;
  intermediate: Record<string, number | string>;
  user_attrs: Record<string, unknown>;
}
interface PyStudy {
  name: string;
  direction: string;
  trials: PyTrial[];
  best: { number: number; value: number; params: Record<string, unknown> } | null;
}

function runWorker(journal: string, name: string, n: number, seed: number, sleepMs: number, goFile?: string): ChildProcess {
  const args = ['--import', 'tsx', WORKER, journal, name, String(n), String(seed), String(sleepMs), ...(goFile ? [goFile] : [])];
  return spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}
const exited = (p: ChildProcess) => new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
const lines = (p: ChildProcess) => {
  const out: string[] = [];
  let buf = '';
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    out.push(...parts);
  });
  return out;
};

/** A study with every kind of trial: complete, pruned at step 1, failed, NaN reported, categorical with null and boolean. */
async function writeMixedStudy(journal: string) {
  const study = await createStudy({
    studyName: 'mixed',
    storage: `journal:${journal}`,
    direction: 'maximize',
    sampler: new RandomSampler({ seed: 5 }),
    pruner: new MedianPruner({ nStartupTrials: 1 }),
  });
  await study.optimize(
    async (t) => {
      const x = t.suggestFloat('x', -2, 2);
      const n = t.suggestInt('n', 1, 32, { log: true });
      const c = t.suggestCategorical('c', ['a', null, true, 3]);
      const q = t.suggestFloat('q', 0, 1, { step: 0.25 });
      await t.setUserAttr('note', `trial ${t.number}`);
      for (let step = 0; step < 3; step++) {
        await t.report(t.number === 2 && step === 1 ? Number.NaN : -x * x + step, step);
        if (t.number === 3 && step === 1) throw new TrialPruned();
      }
      if (t.number === 4) throw new Error('planned failure');
      return -x * x + Math.log(n) + (c === null ? 0.5 : 0) + q;
    },
    { nTrials: 7, catch: (e) => e instanceof Error && e.message === 'planned failure' },
  );
  return study;
}

describe('Study', () => {
  it('records complete, pruned and failed trials; best trial, value and params follow the direction', async () => {
    const study = await writeMixedStudy(path.join(tmp(), 'j.log'));
    const states = study.trials.map((t) => stateName(t.state));
    expect(states[3]).toBe('PRUNED');
    expect(states[4]).toBe('FAIL');
    expect(study.trials[4]!.userAttrs.fail_reason).toBe('planned failure');
    // A pruned trial's value is its last intermediate value, as Optuna records it.
    expect(study.trials[3]!.value).toBe(study.trials[3]!.intermediateValues.get(1));
    expect(Number.isNaN(study.trials[2]!.intermediateValues.get(1))).toBe(true);
    const complete = study.trials.filter((t) => t.state === TrialState.COMPLETE);
    expect(study.bestValue).toBe(Math.max(...complete.map((t) => t.value!)));
    expect(study.bestParams).toEqual(study.bestTrial.params);
    for (const t of study.trials) {
      expect(Math.log2(t.params.n as number) % 1 === 0 || Number.isInteger(t.params.n)).toBe(true);
      expect([0, 0.25, 0.5, 0.75, 1]).toContain(t.params.q);
    }
  });

  it('an error in the objective fails the trial and reaches the caller; a NaN result fails it quietly', async () => {
    const study = await createStudy();
    await expect(study.optimize(() => Promise.reject(new RangeError('boom')), { nTrials: 3 })).rejects.toThrow('boom');
    expect(study.trials.map((t) => t.state)).toEqual([TrialState.FAIL]);
    await study.optimize(() => Number.NaN, { nTrials: 2 });
    expect(study.trials.slice(1).map((t) => [t.state, t.userAttrs.fail_reason])).toEqual([
      [TrialState.FAIL, 'the objective returned NaN'],
      [TrialState.FAIL, 'the objective returned NaN'],
    ]);
    expect(() => study.bestTrial).toThrow(NotFoundError);
  });

  it('stops on nTrials, timeout or maxTrialsInStudy and runs callbacks after each trial', async () => {
    const study = await createStudy();
    const seen: number[] = [];
    await study.optimize((t) => t.suggestFloat('x', 0, 1), { nTrials: 4, callbacks: [(_s, t) => void seen.push(t.number)] });
    expect(seen).toEqual([0, 1, 2, 3]);
    const t0 = Date.now();
    await study.optimize(
      async (t) => {
        await new Promise((r) => setTimeout(r, 30));
        return t.suggestFloat('x', 0, 1);
      },
      { timeout: 0.2 },
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    await study.optimize((t) => t.suggestFloat('x', 0, 1), { maxTrialsInStudy: 12 });
    expect(study.trials.length).toBe(12);
    await expect(study.optimize(() => 1)).rejects.toThrow(InvalidArgumentError);
  });

  it('workers sharing maxTrialsInStudy never overshoot it: the budget check and the creation are one step', async () => {
    const file = path.join(tmp(), 'budget.log');
    const a = await createStudy({ studyName: 'budget', storage: JournalStorage.file(file) });
    const b = await loadStudy({ studyName: 'budget', storage: JournalStorage.file(file) });
    // Both workers see the same count before either creates its trial: without the atomic step, both would.
    const objective = async (t: { suggestFloat: (n: string, lo: number, hi: number) => number }) => {
      await new Promise((r) => setTimeout(r, 5));
      return t.suggestFloat('x', 0, 1);
    };
    await Promise.all([a.optimize(objective, { maxTrialsInStudy: 7 }), b.optimize(objective, { maxTrialsInStudy: 7 })]);
    const trials = await a.refresh();
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(trials.every((t) => t.state === TrialState.COMPLETE)).toBe(true);
  });

  it('enqueued trials run first with their fixed parameters; names, directions and distributions are checked', async () => {
    const storage = JournalStorage.memory();
    const study = await createStudy({ studyName: 's', storage, direction: 'maximize' });
    await study.enqueueTrial({ x: 0.25, k: 'b' });
    await study.optimize((t) => t.suggestFloat('x', 0, 1) + (t.suggestCategorical('k', ['a', 'b']) === 'b' ? 1 : 0), { nTrials: 2 });
    expect(study.trials[0]!.params).toEqual({ x: 0.25, k: 'b' });
    expect(study.trials[0]!.value).toBe(1.25);
    await expect(createStudy({ studyName: 's', storage })).rejects.toThrow(ConflictError);
    expect((await createStudy({ studyName: 's', storage, loadIfExists: true })).trials.length).toBe(0);
    await expect(loadStudy({ studyName: 'nope', storage })).rejects.toThrow(NotFoundError);
    const t = await study.ask();
    expect(() => t.suggestFloat('y', 1, 0)).toThrow(InvalidArgumentError);
    expect(() => t.suggestFloat('y', 0, 1, { log: true })).toThrow(InvalidArgumentError);
    expect(() => t.suggestInt('y', 1, 10, { log: true, step: 2 })).toThrow(InvalidArgumentError);
    expect(() => t.suggestCategorical('y', [])).toThrow(InvalidArgumentError);
    expect(() => t.report(1, -1)).toThrow(InvalidArgumentError);
  });

  it('a trial that reports worse than the median of completed trials is pruned and recorded PRUNED', async () => {
    const study = await createStudy({
      direction: 'maximize',
      sampler: new TPESampler({ seed: 3 }),
      pruner: new MedianPruner({ nStartupTrials: 3 }),
    });
    await study.optimize(
      async (t) => {
        const x = t.suggestFloat('x', 0, 1);
        for (let step = 0; step < 3; step++) {
          await t.report(x + step, step);
          if (await t.shouldPrune()) throw new TrialPruned();
        }
        return x + 2;
      },
      { nTrials: 30 },
    );
    const pruned = study.trials.filter((t) => t.state === TrialState.PRUNED);
    expect(pruned.length).toBeGreaterThan(3);
    for (const t of pruned) {
      const step = Math.max(...t.intermediateValues.keys());
      const before = study.trials
        .filter((o) => o.number < t.number && o.state === TrialState.COMPLETE)
        .map((o) => o.intermediateValues.get(step)!);
      expect(before.length).toBeGreaterThanOrEqual(3);
      const sorted = before.sort((a, b) => a - b);
      const median =
        sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
      expect(Math.max(...t.intermediateValues.values())).toBeLessThan(median);
    }
  });
});

describe('journal storage', () => {
  withOptuna('Optuna reads a study written here: same trials, states, params, values and best trial', async () => {
    const journal = path.join(tmp(), 'node.log');
    const study = await writeMixedStudy(journal);
    const [py] = python('read', journal) as PyStudy[];
    expect(py!.name).toBe('mixed');
    expect(py!.direction).toBe('MAXIMIZE');
    expect(py!.trials.length).toBe(study.trials.length);
    for (const [i, t] of study.trials.entries()) {
      const p = py!.trials[i]!;
      expect(p.number).toBe(t.number);
      expect(p.state).toBe(stateName(t.state));
      expect(p.value).toBe(t.value);
      expect(p.params).toEqual(t.params);
      expect(p.user_attrs.note).toBe(`trial ${t.number}`);
      expect(Object.keys(p.intermediate).map(Number)).toEqual([...t.intermediateValues.keys()]);
      for (const [k, v] of t.intermediateValues) expect(p.intermediate[String(k)]).toBe(Number.isNaN(v) ? 'nan' : v);
    }
    expect(py!.best).toEqual({ number: study.bestTrial.number, value: study.bestValue, params: study.bestParams });
  });

  withOptuna('a study written by Optuna loads here, and Optuna continues a study started here', async () => {
    const journal = path.join(tmp(), 'py.log');
    const py = python('write', journal, 's1') as PyStudy;
    const study = await loadStudy({ studyName: 's1', storage: `journal:${journal}` });
    expect(study.direction).toBe('minimize');
    await study.refresh();
    expect(study.trials.map((t) => stateName(t.state))).toEqual([...py.trials.map((t) => t.state)]);
    for (const [i, p] of py.trials.entries()) {
      const t = study.trials[i]!;
      expect(t.params).toEqual(p.params);
      expect(t.value).toBe(p.value);
      expect(t.userAttrs).toEqual(p.user_attrs);
    }
    expect(study.bestTrial.number).toBe(py.best!.number);
    // Optuna's enqueued trial is taken by the next Node trial, with its fixed parameters.
    await study.optimize((t) => t.suggestFloat('x', -5, 5) ** 2 + Math.log(t.suggestInt('n', 1, 64, { log: true })), { nTrials: 2 });
    expect(study.trials[7]!.params).toMatchObject({ x: 1.5, n: 8 });
    const more = python('optimize', journal, 's1', '3', '1') as PyStudy;
    expect(more.trials.length).toBe(12);
    await study.refresh();
    expect(study.trials.length).toBe(12);
  });

  it('a torn last line is ignored on replay and repaired by the next write; a corrupt line inside fails loudly', async () => {
    const journal = path.join(tmp(), 'torn.log');
    const study = await createStudy({ studyName: 't', storage: `journal:${journal}` });
    await study.optimize((t) => t.suggestFloat('x', 0, 1), { nTrials: 3 });
    appendFileSync(journal, '{"op_code": 4, "worker_id": "dead", "study_id": 0, "datet');
    const again = await loadStudy({ studyName: 't', storage: `journal:${journal}` });
    expect((await again.refresh()).length).toBe(3);
    await again.optimize((t) => t.suggestFloat('x', 0, 1), { nTrials: 1 });
    expect(readFileSync(journal, 'utf8')).not.toContain('"dead"');
    expect((await (await loadStudy({ studyName: 't', storage: `journal:${journal}` })).refresh()).length).toBe(4);
    if (hasOptuna) expect((python('read', journal) as PyStudy[])[0]!.trials.length).toBe(4);
    const text = readFileSync(journal, 'utf8').split('\n');
    text[2] = '{not json';
    writeFileSync(journal, text.join('\n'));
    expect(() => JournalStorage.file(journal)).toThrow(CorruptFileError);
  });

  it('a lock left by a process killed while appending is broken after staleMs', async () => {
    const journal = path.join(tmp(), 'lock.log');
    const study = await createStudy({ studyName: 'l', storage: `journal:${journal}` });
    symlinkSync('lock.log', `${journal}.lock`);
    const old = new Date(Date.now() - 120_000);
    lutimesSync(`${journal}.lock`, old, old);
    await study.optimize((t) => t.suggestFloat('x', 0, 1), { nTrials: 1 });
    expect(study.trials.length).toBe(1);
  });

  it('worker processes racing on one journal: every trial number once, no result lost', async () => {
    const dir = tmp();
    const journal = path.join(dir, 'race.log');
    const go = path.join(dir, 'go');
    await createStudy({ studyName: 'race', storage: `journal:${journal}` });
    const workers = [0, 1, 2, 3].map((i) => runWorker(journal, 'race', 8, 100 + i, 5, go));
    const outs = workers.map(lines);
    await new Promise<void>((resolve) => {
      const ready = () => outs.every((o) => o.includes('ready')) && resolve();
      const timer = setInterval(ready, 20);
      setTimeout(() => clearInterval(timer), 60_000);
      ready();
    });
    writeFileSync(go, '');
    expect(await Promise.all(workers.map(exited))).toEqual([0, 0, 0, 0]);
    const study = await loadStudy({ studyName: 'race', storage: `journal:${journal}` });
    const trials = await study.refresh();
    expect(trials.map((t) => t.number)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(trials.every((t) => t.state === TrialState.COMPLETE && t.intermediateValues.size === 2)).toBe(true);
    const reported = outs.flatMap((o) => o.filter((l) => l.startsWith('done ')).map((l) => Number(l.slice(5))));
    expect(reported.sort((a, b) => a - b)).toEqual(trials.map((t) => t.number));
    if (hasOptuna) expect((python('read', journal) as PyStudy[])[0]!.trials.length).toBe(32);
  });

  it('kill -9 mid-trial loses only that trial: resume fails it and re-queues its parameters', async () => {
    const journal = path.join(tmp(), 'kill.log');
    await createStudy({ studyName: 'k', storage: `journal:${journal}` });
    const worker = runWorker(journal, 'k', 50, 7, 400);
    const out = lines(worker);
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (out.filter((l) => l.startsWith('done')).length >= 2) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    // The worker now sleeps between its trial's two reports: kill it there.
    await new Promise((r) => setTimeout(r, 150));
    worker.kill('SIGKILL');
    await exited(worker);
    const study = await loadStudy({ studyName: 'k', storage: `journal:${journal}` });
    const before = await study.refresh();
    const running = before.filter((t) => t.state === TrialState.RUNNING);
    expect(running.length).toBe(1);
    const stale = await study.failStaleTrials();
    expect(stale.map((t) => t.number)).toEqual([running[0]!.number]);
    const after = await study.refresh();
    expect(after.find((t) => t.number === running[0]!.number)!.state).toBe(TrialState.FAIL);
    const waiting = after.filter((t) => t.state === TrialState.WAITING);
    expect(waiting.length).toBe(1);
    expect(waiting[0]!.systemAttrs.fixed_params).toEqual(running[0]!.params);
    await study.optimize((t) => (t.suggestFloat('x', -5, 5) - 1) ** 2 + (t.suggestCategorical('k', [1, 2, 3]) as number), { nTrials: 1 });
    const retried = (await study.refresh()).at(-1)!;
    expect(retried.number).toBe(waiting[0]!.number);
    expect(retried.state).toBe(TrialState.COMPLETE);
    expect(retried.params).toEqual(running[0]!.params);
    expect(retried.userAttrs.retry_of).toBe(running[0]!.number);
  });
});
