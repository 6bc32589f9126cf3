/** Runs the CLI in-process and captures what it writes, or as its own process (what a user's shell runs). */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { main } from '../../lib/cli/main.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
    process.exitCode = undefined;
  }
}

/**
 * Runs lib/cli/main.ts through tsx in a child process, from `cwd` (default: the project). tsx is imported
 * by file URL, so a working directory outside the project still resolves it.
 */
export function spawnCli(
  argv: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const tsx = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  return new Promise((resolve, reject) => {
    const k = spawn(process.execPath, ['--import', tsx, path.join(ROOT, 'lib/cli/main.ts'), ...argv], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
    });
    let out = '';
    let err = '';
    k.stdout.on('data', (d: Buffer) => (out += d.toString()));
    k.stderr.on('data', (d: Buffer) => (err += d.toString()));
    k.on('error', reject);
    k.on('exit', (code) => resolve({ code, out, err }));
  });
}
