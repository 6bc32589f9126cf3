/**
 * `tft-native attribute --checkpoint DIR`: which features drove a saved model's positions over the last
 * days of a price panel (explainCheckpoint in lib/attribution); this command parses the flags and prints.
 */
import type { Command } from 'commander';

import { explainCheckpoint, pricesForCheckpoint, type CheckpointExplanation } from '../../attribution/checkpoint-explanation.js';
import { EXPLAIN_METHODS, type ExplainMethod } from '../../attribution/run-method.js';
import { CheckpointManager } from '../../checkpoint/checkpoint-manager.js';
import { DEFAULT_TOP_K } from '../../defaults.js';
import { integerIn, oneOf } from '../parsers.js';

interface AttributeFlags {
  checkpoint: string;
  data?: string[];
  method: ExplainMethod;
  days: number;
  steps: number;
  topK: number;
  seed: number;
  json?: boolean;
}

function print(e: CheckpointExplanation, topK: number): void {
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`${e.method} over ${e.windows} windows ending ${e.firstDate} … ${e.lastDate}`);
  if (e.maxAbsDelta !== undefined) out(`completeness: max |Σ attributions − (F(x) − F(baseline))| = ${e.maxAbsDelta.toExponential(2)}`);
  out('\n  rank  feature                                   mean |attribution|');
  e.ranking
    .slice(0, topK)
    .forEach((r, i) => out(`  ${String(i + 1).padStart(4)}  ${r.feature.padEnd(40)}  ${r.importance.toExponential(3)}`));
  const total = e.stepImportance.reduce((a, b) => a + b, 0);
  const T = e.stepImportance.length;
  const recent = e.stepImportance.slice(Math.max(0, T - 5)).reduce((a, b) => a + b, 0);
  out(`\n  share of |attribution| in the window's last 5 of ${T} steps: ${total > 0 ? ((100 * recent) / total).toFixed(1) : 'n/a'}%`);
}

export function registerAttribute(program: Command): void {
  program
    .command('attribute')
    .description("which features drove a checkpoint's positions over the last days of the data (bundled Dow 30 by default)")
    .requiredOption('--checkpoint <dir>', 'checkpoint folder (as written by `tft-native train`)')
    .option('--data <file...>', 'CSV or Parquet price file(s) in long format')
    .option('--method <name>', `attribution method: ${EXPLAIN_METHODS.join(', ')}`, oneOf(EXPLAIN_METHODS), 'integratedGradients')
    .option('--days <n>', 'explain the windows ending on each of the last n days', integerIn(1, 100_000), 21)
    .option('--steps <n>', 'Integrated Gradients steps', integerIn(1, 100_000), 50)
    .option('--top-k <n>', 'features to print', integerIn(1, 1_000_000), DEFAULT_TOP_K)
    .option('--seed <n>', 'seed of the random draws (gradientShap, featurePermutation)', integerIn(0), 0)
    .option('--json', 'machine-readable output (every feature)')
    .action(async (f: AttributeFlags) => {
      const checkpoint = await CheckpointManager.loadDirectory(f.checkpoint);
      try {
        const prices = await pricesForCheckpoint(checkpoint, f.data);
        const e = await explainCheckpoint({ checkpoint, prices, method: f.method, days: f.days, nSteps: f.steps, seed: f.seed });
        if (f.json) process.stdout.write(JSON.stringify(e, null, 2) + '\n');
        else print(e, f.topK);
      } finally {
        checkpoint.model.dispose();
      }
    });
}
