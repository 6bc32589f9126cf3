/**
 * Runs fuzz cases in supervised child processes: one worker process takes cases in order; a worker killed
 * by a signal marks the running case as a crash, one silent for `hangMs` marks it as a hang (and is
 * killed), and a fresh worker continues with the next case. Returns every case's outcome and the totals
 * the README's reliability table reports.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { CheckpointManager, SnapshotStore, TFTModel } from '../../lib/index.js';
import { generateCases, type FuzzCase } from './cases.js';

export interface CaseResult {
  case: FuzzCase;
  outcome: 'ok' | 'typed' | 'untyped' | 'crash' | 'hang';
  detail?: string;
}

export interface FuzzSummary {
  cases: number;
  typed: number;
  accepted: number;
  /** Accepted although the case must fail (a changed byte of a checkpoint). */
  silentAccepts: number;
  untyped: number;
  crashes: number;
  hangs: number;
  byKind: Record<string, { cases: number; typed: number; accepted: number }>;
  failures: CaseResult[];
}

const WORKER = path.join(import.meta.dirname, 'worker.ts');

/** A small valid checkpoint and snapshot store to mutate. */
export async function makeTemplates(dir: string): Promise<{ checkpoint: string; snapshots: string }> {
  const model = TFTModel.create({ nFeatures: 3, dHidden: 8, nHeads: 2, seqLen: 4, nEntities: 2, seed: 5 });
  const checkpoint = await new CheckpointManager(path.join(dir, 'template-ckpt')).save(
    model,
    {
      modelType: 'tft',
      featureNames: ['a', 'b', 'c'],
      nAssets: 2,
      assetNames: ['X', 'Y'],
      normalization: { names: ['a', 'b', 'c'], means: [0, 0, 0], stds: [1, 1, 1] },
      trainingInfo: { folds: [], epochs: { pretrain: 1, finetune: 1 } },
      oos: { sharpe: 0, totalReturn: 0, maxDrawdown: 0 },
    },
    { gitCommit: null },
  );
  model.dispose();
  const snapshots = path.join(dir, 'template-snap');
  const store = new SnapshotStore(snapshots);
  await store.save({ targetName: 't', method: 'm', runId: 'r1', features: ['a', 'b', 'c'], importances: [3, 2, 1] });
  await store.save({ targetName: 't', method: 'm', runId: 'r2', features: ['a', 'b', 'c'], importances: [1, 3, 2] });
  return { checkpoint, snapshots };
}

function runWorker(
  file: string,
  skip: number,
  hangMs: number,
  onLine: (l: string) => void,
): Promise<{ signal: string | null; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, file, String(skip)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let hung = false;
    let timer = setTimeout(() => ((hung = true), child.kill('SIGKILL')), hangMs * 4); // start-up takes longer
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        clearTimeout(timer);
        timer = setTimeout(() => ((hung = true), child.kill('SIGKILL')), hangMs);
      }
    });
    child.stderr.resume();
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ signal: hung ? null : signal, hung });
    });
  });
}

export async function runFuzz(opts: { seed: number; cases: number; dir: string; hangMs?: number }): Promise<FuzzSummary> {
  mkdirSync(opts.dir, { recursive: true });
  const templates = await makeTemplates(opts.dir);
  const cases = generateCases(opts.seed, opts.cases, opts.dir, templates);
  const file = path.join(opts.dir, 'cases.jsonl');
  writeFileSync(file, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const results = new Map<number, CaseResult>();
  let next = 0;
  while (next < cases.length) {
    let running: number | undefined;
    const { signal, hung } = await runWorker(file, next, opts.hangMs ?? 20_000, (line) => {
      const m = /^(start|done) (\d+)(?: (.*))?$/.exec(line);
      if (!m) return;
      const [, tag, id, json] = m;
      if (tag === 'start') running = Number(id);
      else {
        const r = JSON.parse(json!) as { outcome: CaseResult['outcome']; code?: string; message?: string };
        results.set(Number(id), { case: cases[Number(id)]!, outcome: r.outcome, detail: r.code ?? r.message });
        running = undefined;
        next = Number(id) + 1;
      }
    });
    if (running !== undefined) {
      results.set(running, { case: cases[running]!, outcome: hung ? 'hang' : 'crash', detail: hung ? 'no progress' : `signal ${signal}` });
      next = running + 1;
    } else if (next < cases.length && (signal || hung)) {
      next++; // died between cases: skip ahead rather than loop
    }
  }
  const all = [...results.values()];
  const byKind: FuzzSummary['byKind'] = {};
  for (const r of all) {
    const k = (byKind[r.case.kind] ??= { cases: 0, typed: 0, accepted: 0 });
    k.cases++;
    if (r.outcome === 'typed') k.typed++;
    if (r.outcome === 'ok') k.accepted++;
  }
  const silent = all.filter((r) => r.outcome === 'ok' && r.case.mustFail);
  const failures = all.filter((r) => r.outcome === 'untyped' || r.outcome === 'crash' || r.outcome === 'hang').concat(silent);
  return {
    cases: all.length,
    typed: all.filter((r) => r.outcome === 'typed').length,
    accepted: all.filter((r) => r.outcome === 'ok').length,
    silentAccepts: silent.length,
    untyped: all.filter((r) => r.outcome === 'untyped').length,
    crashes: all.filter((r) => r.outcome === 'crash').length,
    hangs: all.filter((r) => r.outcome === 'hang').length,
    byKind,
    failures,
  };
}
