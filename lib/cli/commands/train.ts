/**
 * `tft-native train`: walk-forward training on the bundled Dow 30 sample by default, with progress bars (the
 * whole run in training steps with its ETA, folds, the phase's epochs, the epoch's steps), the fold plan and
 * an OOS summary; writes the production checkpoint.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';

import { formatAnalysisLine } from '../../attribution/analysis/analysis-format.js';

import { formatFoldPlan } from '../../training/folds.js';
import { loadTrainingConfig, resolveTrainingConfig, withOverrides, type TrainingConfig } from '../../training/config.js';
import { trainWalkForward, type TrainingEvent, type TrainingResult } from '../../training/walk-forward.js';
import { saveTrainingCheckpoint } from '../../training/checkpoint.js';
import { rulesBeatingModel } from '../../training/oos-baselines.js';
import { VALIDATION_SE_LIMIT } from '../../training/validation-noise.js';
import { TrainingProgress } from '../../training/training-progress.js';

export interface TrainFlags {
  data?: string[];
  symbols?: string;
  start?: string;
  end?: string;
  config?: string;
  out?: string;
  folds?: string;
  epochs?: string;
  windows?: string;
  device?: string;
  checkpoint?: boolean;
  stabilityDir?: string;
  featuresFrom?: string;
  json?: boolean;
  progress?: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** 1h 05m, 4m 10s, 12s. */
function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export function overridesFrom(f: TrainFlags): Record<string, unknown> {
  const o: Record<string, Record<string, unknown>> = { data: {}, features: {}, model: {}, folds: {}, training: {}, output: {} };
  if (f.data?.length) o.data!.path = f.data.length === 1 ? f.data[0] : f.data;
  if (f.symbols)
    o.data!.symbols = f.symbols
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (f.start) o.data!.start = f.start;
  if (f.end) o.data!.end = f.end;
  if (f.folds) o.folds!.count = Number(f.folds);
  if (f.epochs) {
    const [p, ft] = f.epochs.split('+').map(Number);
    o.training!.pretrainEpochs = p;
    o.training!.finetuneEpochs = ft ?? 0;
  }
  if (f.windows) o.training!.maxWindowsPerEpoch = Number(f.windows);
  if (f.device) o.model!.device = f.device;
  if (f.out) o.output!.checkpointRoot = f.out;
  if (f.stabilityDir) o.output!.stabilityDir = f.stabilityDir;
  if (f.checkpoint === false) o.output!.saveCheckpoint = false;
  if (f.featuresFrom) o.features!.from = f.featuresFrom;
  return o;
}

/**
 * Progress display: bars on a terminal, one line per epoch otherwise (logs, CI). Both show the run's ETA,
 * from the training steps done and still expected over every fold.
 */
function reporter(enabled: boolean, training: TrainingConfig['training']): { onEvent: (e: TrainingEvent) => void; stop: () => void } {
  const log = (s: string) => process.stderr.write(s + '\n');
  const tty = enabled && process.stderr.isTTY === true;
  const multi = tty
    ? new cliProgress.MultiBar(
        {
          format: ' {label} |{bar}| {value}/{total} {unit} | loss {loss} | Sharpe {sharpe} | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const progress = new TrainingProgress(training);
  const runStatus = () => `run ${progress.stepsDone}/${progress.stepsTotal} steps, ETA ${duration(progress.etaSeconds())}`;
  let runBar: cliProgress.SingleBar | undefined;
  let foldsBar: cliProgress.SingleBar | undefined;
  let epochBar: cliProgress.SingleBar | undefined;
  let stepBar: cliProgress.SingleBar | undefined;
  let folds = 0;
  return {
    onEvent: (e) => {
      progress.update(e);
      if (runBar) {
        runBar.setTotal(Math.max(1, progress.stepsTotal));
        runBar.update(progress.stepsDone, { runEta: duration(progress.etaSeconds()) });
      }
      switch (e.type) {
        case 'data':
          log(
            `data: ${e.symbols} symbols × ${e.days} days (${e.firstDate} … ${e.lastDate}), ${e.features} features, longest lookback ${e.maxLookback}`,
          );
          break;
        case 'plan':
          folds = e.folds.length;
          log(formatFoldPlan(e.folds));
          if (multi) {
            runBar = multi.create(
              1,
              0,
              { runEta: '-' },
              { format: ' run      |{bar}| {value}/{total} steps | {duration_formatted} elapsed | ETA {runEta}' },
            );
            foldsBar = multi.create(
              folds,
              0,
              { label: 'folds   ', unit: 'folds', loss: '-', sharpe: '-' },
              { format: ' {label} |{bar}| {value}/{total} {unit} | loss {loss} | OOS Sharpe {sharpe}' },
            );
          }
          break;
        case 'fold-start':
          if (!multi) log(`fold ${e.fold}: ${e.trainWindows} training windows, ${e.validationWindows} validation windows`);
          break;
        case 'phase-start':
          if (multi) {
            epochBar?.stop();
            if (epochBar) multi.remove(epochBar);
            epochBar = multi.create(e.epochs, 0, { label: `${e.phase.padEnd(8)}`, unit: 'epochs', loss: '-', sharpe: '-' });
          }
          break;
        case 'step':
          if (multi) {
            if (!stepBar) stepBar = multi.create(e.progress.steps, 0, { label: 'epoch   ', unit: 'steps', loss: '-', sharpe: '-' });
            stepBar.setTotal(e.progress.steps);
            stepBar.update(e.progress.step, { loss: num(e.progress.loss, 3), sharpe: num(e.progress.sharpe) });
          }
          break;
        case 'epoch':
          if (multi) {
            epochBar?.update(e.epoch + 1, { loss: num(e.validation.loss, 3), sharpe: num(e.validation.sharpe) });
          } else {
            log(
              `fold ${e.fold} ${e.phase} epoch ${e.epoch + 1}/${e.epochs}: train loss ${num(e.train.loss, 3)} (Sharpe ${num(e.train.sharpe)}), ` +
                `validation loss ${num(e.validation.loss, 3)} (Sharpe ${num(e.validation.sharpe)})${e.best ? ' *' : ''}, ${num(e.train.seconds, 1)} s; ${runStatus()}`,
            );
          }
          break;
        case 'snapshot':
          if (!multi) log(`fold ${e.fold}: ${e.method ?? 'VSN importance'} snapshot ${e.path}`);
          break;
        case 'attribution':
          log(
            `fold ${e.fold} ${e.phase} epoch ${e.epoch + 1}: ${formatAnalysisLine(e.analysis)}` +
              (e.budgetExhausted ? ' — attribution budget spent, no more analyses this fold' : ''),
          );
          break;
        case 'restore':
          if (!multi)
            log(
              e.bestEpoch.averaged
                ? `fold ${e.fold} ${e.phase}: mean weights of ${e.bestEpoch.averaged} ${e.bestEpoch.phase} epochs kept (validation loss ${num(e.bestValidationLoss, 3)})`
                : `fold ${e.fold} ${e.phase}: weights of ${e.bestEpoch.phase} epoch ${e.bestEpoch.epoch + 1} kept (validation loss ${num(e.bestValidationLoss, 3)})`,
            );
          break;
        case 'early-stop':
          if (!multi)
            log(`fold ${e.fold} ${e.phase}: early stop after epoch ${e.epoch + 1} (best validation loss ${num(e.bestValidationLoss, 3)})`);
          break;
        case 'fold-end':
          foldsBar?.increment(1, { loss: num(e.result.bestValidationLoss, 3), sharpe: num(e.result.oos.sharpe) });
          if (!multi)
            log(
              `fold ${e.fold}: OOS Sharpe ${num(e.result.oos.sharpe)}, total return ${pct(e.result.oos.totalReturn)}, ${num(e.result.seconds, 0)} s`,
            );
          break;
      }
    },
    stop: () => multi?.stop(),
  };
}

export function formatTrainingSummary(r: TrainingResult, checkpoint?: string): string {
  const lines: string[] = [''];
  lines.push('fold  test range                 OOS Sharpe  total return  max drawdown  turnover  epochs  val. SE  top VSN features');
  for (const f of r.folds) {
    lines.push(
      `${String(f.fold.index).padEnd(6)}${`${f.fold.test.startDate}..${f.fold.test.endDate}`.padEnd(27)}` +
        `${num(f.oos.sharpe).padStart(10)}  ${pct(f.oos.totalReturn).padStart(12)}  ${pct(f.oos.maxDrawdown).padStart(12)}  ` +
        `${num(f.oos.turnover, 3).padStart(8)}  ${String(f.epochs.length).padStart(6)}  ${`±${num(f.validationNoise.sharpeStandardError)}`.padStart(7)}  ${f.vsnImportance
          .slice(0, 4)
          .map((w) => w.name)
          .join(', ')}`,
    );
  }
  lines.push(
    `all   ${`${r.folds[0]!.fold.test.startDate}..${r.folds.at(-1)!.fold.test.endDate}`.padEnd(27)}${num(r.oos.sharpe).padStart(10)}  ` +
      `${pct(r.oos.totalReturn).padStart(12)}  ${pct(r.oos.maxDrawdown).padStart(12)}  ${num(r.oos.turnover, 3).padStart(8)}`,
  );
  lines.push(
    `\nannualised OOS return ${pct(r.oos.annualReturn)}, volatility ${pct(r.oos.annualVolatility)}, ${r.oos.days} test days; trained in ${num(r.seconds, 0)} s`,
  );
  lines.push(...baselineLines(r), ...validationWarning(r));
  if (checkpoint) lines.push(`checkpoint: ${checkpoint}`);
  return lines.join('\n');
}

/** The simple rules' OOS Sharpe on the same days, fold by fold, and a plain verdict. */
function baselineLines(r: TrainingResult): string[] {
  const lines = [
    '',
    `${'OOS Sharpe on the same days'.padEnd(30)}${r.folds.map((f) => `fold ${f.fold.index}`.padStart(9)).join('')}${'all'.padStart(9)}`,
  ];
  const row = (name: string, folds: number[], all: number) =>
    `  ${name.padEnd(28)}${folds.map((v) => num(v).padStart(9)).join('')}${num(all).padStart(9)}`;
  lines.push(
    row(
      'TFT',
      r.folds.map((f) => f.oos.sharpe),
      r.oos.sharpe,
    ),
  );
  for (const b of r.baselines)
    lines.push(
      row(
        b.name,
        b.folds.map((f) => f.sharpe),
        b.overall.sharpe,
      ),
    );
  const beaten = rulesBeatingModel(r.baselines, r.oos.sharpe);
  lines.push(
    beaten.length
      ? `the model LOSES to ${beaten.map((b) => `${b.name} (${num(b.overall.sharpe)})`).join(', ')} on these days`
      : 'the model beats every simple rule on these days',
  );
  return lines;
}

function validationWarning(r: TrainingResult): string[] {
  const noisy = r.folds.filter((f) => !f.validationNoise.reliable);
  if (!noisy.length) return [];
  const worst = Math.max(...noisy.map((f) => f.validationNoise.sharpeStandardError));
  return [
    `warning: validation too short to choose epochs reliably in ${noisy.length} of ${r.folds.length} fold(s): ` +
      `its Sharpe's standard error reaches ±${num(worst)} (above ±${num(VALIDATION_SE_LIMIT)}), so epochs whose validation ` +
      'Sharpes differ by less than twice that are indistinguishable; lengthen folds.validationDays or add assets',
  ];
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('walk-forward training (bundled Dow 30 sample by default); writes a checkpoint and prints the OOS summary')
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format (date, symbol, close[, open, high, low, volume])')
    .option('--symbols <list>', 'comma-separated symbols (default: all)')
    .option('--start <date>', 'first date (YYYY-MM-DD)')
    .option('--end <date>', 'last date (YYYY-MM-DD)')
    .option('--config <file>', 'YAML training config (every model, training, fold and output option)')
    .option('--out <dir>', 'checkpoint root (default: checkpoints)')
    .option('--folds <n>', 'number of walk-forward folds')
    .option('--epochs <p+f>', 'pretrain + finetune epochs, e.g. 30+50')
    .option('--windows <n>', 'training windows sampled per epoch (0 = all)')
    .option('--device <cpu|cuda>', "where the model trains and predicts (default cpu; 'cuda' needs a CUDA libtorch and a GPU)")
    .option('--no-checkpoint', 'do not write a checkpoint')
    .option(
      '--features-from <path>',
      'train on a saved selection: feature_selector.json or a checkpoint folder (per fold, no later selection)',
    )
    .option('--stability-dir <dir>', 'write one VSN importance snapshot per fold (method tft_vsn) into this store')
    .option('--no-progress', 'no progress bars (one line per epoch)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: TrainFlags) => {
      const base: TrainingConfig = flags.config ? loadTrainingConfig(flags.config) : resolveTrainingConfig({});
      const config = withOverrides(base, overridesFrom(flags));
      const rep = reporter(flags.progress !== false && !flags.json, config.training);
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      let result: TrainingResult;
      try {
        result = await trainWalkForward({ config, onEvent: rep.onEvent, signal: abort.signal });
      } finally {
        rep.stop();
        process.off('SIGINT', onSigint);
      }
      const checkpoint = config.output.saveCheckpoint ? await saveTrainingCheckpoint(result) : undefined;
      if (flags.json) {
        process.stdout.write(
          JSON.stringify(
            {
              checkpoint,
              oos: { ...result.oos, returns: undefined },
              folds: result.folds.map((f) => ({
                fold: f.fold,
                oos: { ...f.oos, returns: undefined },
                epochs: f.epochs.length,
                bestValidationLoss: f.bestValidationLoss,
                validationNoise: f.validationNoise,
                vsnImportance: f.vsnImportance,
              })),
              baselines: result.baselines,
              seconds: result.seconds,
            },
            null,
            2,
          ) + '\n',
        );
      } else {
        process.stdout.write(formatTrainingSummary(result, checkpoint) + '\n');
      }
      result.model.dispose();
    });
}
