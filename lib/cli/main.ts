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
import { preloadNativeCore } from '../native/preload.js';

/**
 * The installed package's version, read from its package.json at run time, which lies two folders above
 * this file both as compiled (dist/cli/main.js) and as source run through tsx (lib/cli/main.ts).
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** The capabilities' command modules, imported when a command line is parsed (see preloadNativeCore). */
async function registrations(): Promise<((program: Command) => void)[]> {
  const [info, data, rank, checkpoints, train, select, tune, stability, attribute, explain, serve] = await Promise.all([
    import('./commands/info.js'),
    import('./commands/data.js'),
    import('./commands/rank.js'),
    import('./commands/checkpoints.js'),
    import('./commands/train.js'),
    import('./commands/select.js'),
    import('./commands/tune.js'),
    import('./commands/stability.js'),
    import('./commands/attribute.js'),
    import('./commands/explain.js'),
    import('./commands/serve.js'),
  ]);
  return [
    info.registerInfo,
    data.registerData,
    rank.registerRank,
    checkpoints.registerCheckpoints,
    train.registerTrain,
    select.registerSelect,
    tune.registerTune,
    stability.registerStability,
    attribute.registerAttribute,
    explain.registerExplain,
    serve.registerServe,
  ];
}

export async function buildProgram(): Promise<Command> {
  const program = new Command();
  program
    .name('tft-native')
    .version(packageVersion())
    .description('Train, checkpoint, serve and explain TFT / X-Trend trading models natively from Node.')
    .showHelpAfterError()
    .exitOverride();
  for (const register of await registrations()) register(program);
  return program;
}

/** Commands that never touch the native core (and help / version), for which no preload is started. */
const CORELESS = new Set(['help', 'data']);

/** Whether the command line will load the native core: then it starts loading now (preloadNativeCore). */
export function needsNativeCore(argv: readonly string[]): boolean {
  const first = argv[0];
  return first !== undefined && !first.startsWith('-') && !CORELESS.has(first);
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram();
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
  if (needsNativeCore(process.argv.slice(2))) preloadNativeCore();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`tft-native: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(70);
    },
  );
}
