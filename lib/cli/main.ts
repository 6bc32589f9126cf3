#!/usr/bin/env node
/**
 * The tft-native command line. Each capability registers its commands from lib/cli/commands/<name>.ts.
 * Exit codes: 0 success, 1 a typed tft-native error (message printed), 2 usage error, 3 warnings treated
 * as failures (--fail-on-warning where offered).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Command, CommanderError } from 'commander';

import { TftError } from '../errors.js';
import { registerAttribute } from './commands/attribute.js';
import { registerCheckpoints } from './commands/checkpoints.js';
import { registerData } from './commands/data.js';
import { registerExplain } from './commands/explain.js';
import { registerInfo } from './commands/info.js';
import { registerRank } from './commands/rank.js';
import { registerSelect } from './commands/select.js';
import { registerServe } from './commands/serve.js';
import { registerStability } from './commands/stability.js';
import { registerTrain } from './commands/train.js';
import { registerTune } from './commands/tune.js';

/**
 * The installed package's version, read from its package.json at run time, which lies two folders above
 * this file both as compiled (dist/cli/main.js) and as source run through tsx (lib/cli/main.ts).
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tft-native')
    .version(packageVersion())
    .description('Train, checkpoint, serve and explain TFT / X-Trend trading models natively from Node.')
    .showHelpAfterError()
    .exitOverride();
  registerInfo(program);
  registerData(program);
  registerRank(program);
  registerCheckpoints(program);
  registerTrain(program);
  registerSelect(program);
  registerTune(program);
  registerStability(program);
  registerAttribute(program);
  registerExplain(program);
  registerServe(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof TftError) {
      process.stderr.write(`tft-native: ${err.message} [${err.code}]\n`);
      return 1;
    }
    throw err;
  }
}

function isEntryPoint(): boolean {
  // npm's bin shim is a symlink; compare real paths so `tft-native` and `node dist/cli/main.js` both run.
  const invoked = process.argv[1];
  if (!invoked) return false;
  try {
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const invokedDirectly = isEntryPoint();
if (invokedDirectly || process.env.TFT_NATIVE_CLI === '1') {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`tft-native: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(70);
    },
  );
}
