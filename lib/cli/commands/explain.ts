/**
 * `tft-native explain --checkpoint DIR`: a full attribution analysis of a saved model (analyzeCheckpoint
 * in lib/attribution/analysis) — rankings by feature group, consensus of the methods, quality, pattern
 * consistency, dead features, health; this command parses the flags and prints.
 */
import type { Command } from 'commander';
import { InvalidArgumentError as UsageError } from 'commander';

import { analyzeCheckpoint } from '../../attribution/analysis/checkpoint-analysis.js';
import { formatAnalysis } from '../../attribution/analysis/analysis-format.js';
import { loadHealthThresholds } from '../../attribution/analysis/health.js';
import { requireMethod, type ExplainMethod } from '../../attribution/run-method.js';
import { pricesForCheckpoint } from '../../attribution/checkpoint-explanation.js';
import { CheckpointManager } from '../../checkpoint/checkpoint-manager.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { integerIn } from '../parsers.js';

interface ExplainFlags {
  checkpoint: string;
  data?: string[];
  date?: string;
  start?: string;
  end?: string;
  symbols?: string;
  methods: ExplainMethod[];
  samples: number;
  steps: number;
  seed: number;
  healthConfig?: string;
  json?: boolean;
  out?: string;
}

function methodList(v: string): ExplainMethod[] {
  try {
    return v.split(',').map((m) => requireMethod(m.trim()));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('attribution analysis of a checkpoint: top features by group, method consensus, quality, dead features, health')
    .requiredOption('--checkpoint <dir>', 'checkpoint folder (as written by `tft-native train`)')
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format (default: the bundled sample)')
    .option('--date <yyyy-mm-dd>', 'explain the windows ending on this day')
    .option('--start <yyyy-mm-dd>', 'first window end (with --end; default: the last 21 days)')
    .option('--end <yyyy-mm-dd>', 'last window end')
    .option('--symbols <list>', 'comma-separated symbols (default: every asset of the checkpoint in the data)')
    .option(
      '--methods <list>',
      'methods, the first primary: ig, gradshap, deeplift, saliency, ixg, deepliftshap, ablation, permutation',
      methodList,
      ['integratedGradients', 'gradientShap', 'deepLift', 'saliency'],
    )
    .option('--samples <n>', 'windows analysed at most (a seeded sample)', integerIn(1, 1_000_000), 64)
    .option('--steps <n>', 'Integrated Gradients steps', integerIn(1, 100_000), 50)
    .option('--seed <n>', 'seed of every random draw', integerIn(0), 0)
    .option('--health-config <file>', 'YAML with the health bands (configs/attribution_health.yaml)')
    .option('--json', 'machine-readable output (every number)')
    .option('--out <file>', 'also write the analysis as JSON to this file')
    .action(async (f: ExplainFlags) => {
      const thresholds = f.healthConfig ? loadHealthThresholds(f.healthConfig) : undefined;
      const checkpoint = await CheckpointManager.loadDirectory(f.checkpoint);
      try {
        const prices = await pricesForCheckpoint(checkpoint, f.data);
        const a = await analyzeCheckpoint({
          checkpoint,
          prices,
          date: f.date,
          start: f.start,
          end: f.end,
          symbols: f.symbols?.split(',').map((s) => s.trim()),
          methods: f.methods,
          samples: f.samples,
          nSteps: f.steps,
          seed: f.seed,
          thresholds,
        });
        const json = JSON.stringify(a, null, 2) + '\n';
        if (f.out) await writeFileAtomic(f.out, json);
        if (f.json) process.stdout.write(json);
        else {
          process.stdout.write(`windows ending ${a.firstDate} … ${a.lastDate}, ${a.symbols.length} symbols\n`);
          for (const line of formatAnalysis(a)) process.stdout.write(line + '\n');
          const g = a.gradientFlowSource;
          process.stdout.write(
            g
              ? `(gradient flow as training measured it: fold ${g.fold}, ${g.phase} epoch ${g.epoch}, the epoch of these weights)\n`
              : 'Gradient flow: not recorded in this checkpoint (no training record of it)\n',
          );
        }
      } finally {
        checkpoint.model.dispose();
      }
    });
}
