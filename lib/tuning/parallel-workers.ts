/**
 * Parallel tuning workers on one machine: N child processes, each running the same study from the same
 * storage with its own sampler seed stream and its share of the cores. They coordinate only through the
 * storage (the journal's file lock, or PostgreSQL), so workers started by hand on other terminals or
 * machines join the same way. Each child reports its events as JSON lines on stdout.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

import { TftError } from '../errors.js';
import type { TuningEvent } from './hp-tuner.js';

export const WORKER_EVENT_PREFIX = 'tft-native-tuning-event ';

export interface WorkerLaunch {
  /** The command line that runs one worker (e.g. this CLI's `tune … --worker-index i`), without the index. */
  argv: (index: number) => string[];
  workers: number;
  onEvent?: (worker: number, e: TuningEvent) => void;
  onStderr?: (worker: number, line: string) => void;
}

/** Threads per worker: the cores split evenly, at least one each. */
export function threadsPerWorker(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / workers));
}

export async function runWorkers(launch: WorkerLaunch): Promise<void> {
  const exits = Array.from({ length: launch.workers }, (_, i) => runOne(launch, i));
  const codes = await Promise.all(exits);
  const failed = codes.map((c, i) => [i, c] as const).filter(([, c]) => c !== 0);
  if (failed.length) {
    throw new TftError(
      'ERR_NATIVE',
      `tuning worker(s) ${failed.map(([i, c]) => `${i} (exit ${c})`).join(', ')} failed; the study keeps every finished trial: rerun with --resume`,
    );
  }
}

function runOne(launch: WorkerLaunch, index: number): Promise<number | null> {
  const [cmd, ...args] = launch.argv(index);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const split = (stream: NodeJS.ReadableStream, onLine: (l: string) => void) => {
    let buf = '';
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      lines.forEach(onLine);
    });
  };
  split(child.stdout!, (l) => {
    if (l.startsWith(WORKER_EVENT_PREFIX)) launch.onEvent?.(index, JSON.parse(l.slice(WORKER_EVENT_PREFIX.length)) as TuningEvent);
  });
  split(child.stderr!, (l) => launch.onStderr?.(index, l));
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}
