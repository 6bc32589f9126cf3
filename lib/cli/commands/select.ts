/**
 * `tft-native select`: Tier 1 per fold, the exploration pass, Tier 2, MI and permutation checks; prints per
 * phase how many features remain and why, and writes feature_selector.json (a reason for every dropped
 * feature in the JSON).
 */
import type { Command } from 'commander';

import { loadTrainingConfig, resolveTrainingConfig, withOverrides, type TrainingConfig } from '../../training/config.js';
import { runFeatureSelection } from '../../selection/run-selection.js';
import { formatSelectionEvent, formatSelectionReport } from '../../selection/selection-format.js';
import { overridesFrom, type TrainFlags } from './train.js';

interface SelectFlags extends Pick<TrainFlags, 'data' | 'symbols' | 'start' | 'end' | 'config' | 'folds' | 'windows' | 'epochs' | 'json'> {
  out?: string;
  quiet?: boolean;
}

export function registerSelect(program: Command): void {
  program
    .command('select')
    .description(
      'feature selection: coverage + correlation pre-filters, an exploration training, VSN stability across folds, MI and permutation checks',
    )
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format (date, symbol, close[, open, high, low, volume])')
    .option('--symbols <list>', 'comma-separated symbols (default: all)')
    .option('--start <date>', 'first date (YYYY-MM-DD)')
    .option('--end <date>', 'last date (YYYY-MM-DD)')
    .option('--config <file>', 'YAML run config (its `selection` section holds the selector options)')
    .option('--folds <n>', 'number of walk-forward folds')
    .option('--epochs <p+f>', 'the run epochs (the exploration uses at most selection.exploration)')
    .option('--windows <n>', 'training windows sampled per epoch (0 = all)')
    .option('--out <file>', 'where to write the selector (default: feature_selector.json)', 'feature_selector.json')
    .option('--quiet', 'no per-phase lines on stderr')
    .option('--json', 'print the whole selector state as JSON on stdout')
    .action(async (flags: SelectFlags) => {
      const base: TrainingConfig = flags.config ? loadTrainingConfig(flags.config) : resolveTrainingConfig({});
      const config = withOverrides(base, overridesFrom(flags));
      const log = !flags.quiet && !flags.json ? (s: string) => process.stderr.write(s + '\n') : () => {};
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        const selector = await runFeatureSelection({
          config,
          signal: abort.signal,
          onEvent: (e) => {
            const line = formatSelectionEvent(e);
            if (line) log(line);
          },
        });
        await selector.save(flags.out ?? 'feature_selector.json');
        if (flags.json) process.stdout.write(JSON.stringify(selector.toJSON(), null, 2) + '\n');
        else process.stdout.write(formatSelectionReport(selector) + `\nselector: ${flags.out}\n`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
