/**
 * `tft-native tune`: the HPTuner on a run config (the bundled Dow 30 sample by default) — TPE + median
 * pruning over walk-forward folds, a crash-safe study (an Optuna journal under <out>/studies/ unless
 * --storage says otherwise), --workers N parallel processes, --resume; then the best parameters trained
 * with the full budget into a checkpoint (unless --no-train), and the table of trials.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { InvalidArgumentError as UsageError, Option } from 'commander';

import { setNumThreads } from '../../runtime.js';
import { loadTrainingConfig, resolveTrainingConfig, withOverrides, type TrainingConfig } from '../../training/config.js';
import {
  defaultStoragePath,
  formatTrialLine,
  formatTuningSummary,
  HPTuner,
  runWorkers,
  threadsPerWorker,
  trainTunedModel,
  WORKER_EVENT_PREFIX,
  type TuningEvent,
  type TuningResult,
} from '../../tuning/index.js';
import { integerIn } from '../parsers.js';
import { overridesFrom, type TrainFlags } from './train.js';

interface TuneFlags extends TrainFlags {
  trials?: number;
  timeout?: number;
  storage?: string;
  study?: string;
  workers?: number;
  resume?: boolean;
  train?: boolean;
  foldsPerTrial?: number;
  trialEpochs?: string;
  workerIndex?: number;
}

/** 4h, 30m, 90s, 1h30m or plain seconds. */
export function parseDuration(v: string): number {
  const m = /^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$/.exec(v);
  const s = m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) : Number.NaN;
  if (!m || !(s > 0)) throw new UsageError(`must be a duration such as 4h, 30m, 90s or 1h30m, got '${v}'`);
  return s;
}

function tuningOverrides(f: TuneFlags): Record<string, unknown> {
  const t: Record<string, unknown> = {};
  if (f.trials !== undefined) t.nTrials = f.trials;
  if (f.timeout !== undefined) t.timeoutSeconds = f.timeout;
  if (f.storage) t.storage = f.storage;
  if (f.study) t.studyName = f.study;
  if (f.foldsPerTrial !== undefined) t.nFoldsPerTrial = f.foldsPerTrial;
  if (f.trialEpochs) {
    const [p, ft] = f.trialEpochs.split('+').map(Number);
    t.pretrainEpochs = p;
    t.finetuneEpochs = ft ?? 0;
  }
  return { ...overridesFrom(f), tuning: t };
}

/** A line per finished trial; on a terminal, a bar over the trials (ETA, best Sharpe, pruned) and one over the current trial's folds. */
function reporter(enabled: boolean, nTrials: number) {
  const log = (s: string) => process.stderr.write(s + '\n');
  const multi =
    enabled && process.stderr.isTTY
      ? new cliProgress.MultiBar({ hideCursor: true, clearOnComplete: false, stream: process.stderr }, cliProgress.Presets.shades_classic)
      : undefined;
  const trialsBar = multi?.create(
    nTrials,
    0,
    { best: '-', pruned: 0 },
    { format: ' trials |{bar}| {value}/{total} | best Sharpe {best} | {pruned} pruned | ETA {eta_formatted}' },
  );
  const foldBars = new Map<string, cliProgress.SingleBar>();
  const onEvent = (worker: number, e: TuningEvent) => {
    const key = String(worker);
    if (e.type === 'trial-start') {
      if (multi) {
        const bar =
          foldBars.get(key) ??
          multi.create(1, 0, {}, { format: ` worker ${worker} trial {trial} |{bar}| {value}/{total} folds | last fold Sharpe {sharpe}` });
        foldBars.set(key, bar);
        bar.start(1, 0, { trial: e.trial, sharpe: '-' });
      } else
        log(
          `worker ${worker}: trial ${e.trial} started${Object.keys(e.repaired).length ? ` (repaired ${JSON.stringify(e.repaired)})` : ''}`,
        );
    } else if (e.type === 'fold-end') {
      const bar = foldBars.get(key);
      if (bar) {
        bar.setTotal(e.of);
        bar.update(e.step + 1, { sharpe: e.sharpe.toFixed(2) });
      } else
        log(`worker ${worker}: trial ${e.trial} fold ${e.step + 1}/${e.of}: OOS Sharpe ${e.sharpe.toFixed(2)}, ${e.seconds.toFixed(0)} s`);
    } else {
      trialsBar?.update(e.finished, { best: e.best ? e.best.value.toFixed(2) : '-', pruned: e.pruned });
      if (!multi) log(formatTrialLine(e.trial, e.best, e.pruned));
    }
  };
  return { onEvent, stop: () => multi?.stop() };
}

async function runParallel(flags: TuneFlags, config: TrainingConfig, onEvent: (w: number, e: TuningEvent) => void): Promise<void> {
  const workers = flags.workers!;
  const threads = threadsPerWorker(workers);
  // Every worker runs this same command line as a single worker of its own index.
  const own = process.argv.slice(2).filter((a, i, all) => !(a === '--workers' || all[i - 1] === '--workers' || a.startsWith('--workers=')));
  const storage = config.tuning.storage ?? `journal:${defaultStoragePath(config)}`;
  await runWorkers({
    workers,
    argv: (i) => [
      process.execPath,
      ...process.execArgv,
      process.argv[1]!,
      ...own,
      '--storage',
      storage,
      '--no-train',
      '--worker-index',
      String(i),
      '--threads',
      String(threads),
    ],
    onEvent,
    onStderr: (w, line) => {
      if (/error|tft-native:/i.test(line)) process.stderr.write(`worker ${w}: ${line}\n`);
    },
  });
}

export function registerTune(program: Command): void {
  program
    .command('tune')
    .description('tune hyperparameters (TPE + median pruning over walk-forward folds); trains the best into a checkpoint')
    .option('--config <file>', 'YAML run config; its `tuning` section sets the budget, sampler, pruner and search space')
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format')
    .option('--symbols <list>', 'comma-separated symbols (default: all)')
    .option('--start <date>', 'first date (YYYY-MM-DD)')
    .option('--end <date>', 'last date (YYYY-MM-DD)')
    .option('--out <dir>', 'checkpoint root; the default study journal lives in <out>/studies/')
    .option('--trials <n>', 'trials in the study (default 40), counting every worker and earlier runs', integerIn(1))
    .option('--timeout <duration>', 'stop starting trials after this long (e.g. 4h, 30m; default 4h)', parseDuration)
    .option('--storage <spec>', "study storage: 'journal:<file>' or a .log path (an Optuna journal), or postgresql://… (many machines)")
    .option('--study <name>', 'study name (default tft-tuning)')
    .option('--workers <n>', 'parallel worker processes sharing the study', integerIn(1, 64), 1)
    .option('--resume', 'continue the study: trials of dead workers are failed and re-queued, the sampler reads every finished trial')
    .option('--folds-per-trial <n>', 'most recent walk-forward folds per trial (default 3)', integerIn(1))
    .option('--trial-epochs <p+f>', 'abbreviated pretrain + finetune epochs per trial (default 15+25)')
    .option('--epochs <p+f>', 'pretrain + finetune epochs of the final training with the best parameters')
    .option('--windows <n>', 'training windows sampled per epoch (0 = all)')
    .option('--no-train', 'do not train the best parameters into a checkpoint')
    .option('--no-progress', 'no progress bars (one line per fold and trial)')
    .option('--json', 'print the result as JSON on stdout')
    // Set by --workers on the processes it starts.
    .addOption(new Option('--worker-index <i>').hideHelp().argParser(integerIn(0)))
    .addOption(new Option('--threads <n>').hideHelp().argParser(integerIn(1)))
    .action(async (flags: TuneFlags & { threads?: number }) => {
      const base = flags.config ? loadTrainingConfig(flags.config) : resolveTrainingConfig({});
      const config = withOverrides(base, tuningOverrides(flags));
      if (flags.threads) setNumThreads(flags.threads);
      const isWorker = flags.workerIndex !== undefined;
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      const rep = isWorker ? undefined : reporter(flags.progress !== false && !flags.json, config.tuning.nTrials);
      const emit = isWorker
        ? (_w: number, e: TuningEvent) => void process.stdout.write(WORKER_EVENT_PREFIX + JSON.stringify(e) + '\n')
        : rep!.onEvent;
      let result: TuningResult;
      try {
        const mode = isWorker ? 'join' : flags.resume ? 'resume' : 'create';
        const tuner = new HPTuner({
          config,
          mode,
          workerIndex: flags.workerIndex,
          onEvent: (e) => emit(flags.workerIndex ?? 0, e),
          signal: abort.signal,
        });
        if ((flags.workers ?? 1) > 1) {
          const study = await tuner.open();
          await runParallel(flags, config, emit);
          await study.refresh();
          result = tuner.result(study);
        } else {
          result = await tuner.tune();
        }
      } finally {
        rep?.stop();
        process.off('SIGINT', onSigint);
      }
      await result.study.storage.close();
      if (isWorker) return;
      const trained = flags.train === false ? undefined : await trainTunedModel(result, { signal: abort.signal });
      trained?.training.model.dispose();
      if (flags.json) {
        const { study: _study, ...rest } = result;
        process.stdout.write(
          JSON.stringify(
            { ...rest, checkpoint: trained?.checkpoint, finalOos: trained && { ...trained.training.oos, returns: undefined } },
            null,
            2,
          ) + '\n',
        );
      } else process.stdout.write(formatTuningSummary(result, trained?.checkpoint) + '\n');
    });
}
