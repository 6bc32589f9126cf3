/**
 * `tft-native stability analyze|analyze-all`: feature-importance stability across runs.
 *
 * `analyze` takes one (target, method); without --universe every universe found for it is its own group
 * (a store may hold e.g. AAPL and the cross-sectional ALL side by side). Exit codes: 0 when every group
 * asked for was analysed (warnings included); 1 when a group's analysis failed (the other groups are still
 * printed) or nothing matched; 2 for a usage error (e.g. --top-k 0); with --fail-on-warning, 3 when a
 * metric is below its threshold or undefined (n/a). Skipped store files are reported but change no exit code.
 */
import type { Command } from 'commander';

import { DEFAULT_TOP_K } from '../../defaults.js';
import { integerIn } from '../parsers.js';
import { NotFoundError } from '../../errors.js';
import { mergeStabilityConfig, resolveStabilityConfig, warnToStderr } from '../../stability/config.js';
import { analyzeGroups, type GroupAnalyses } from '../../stability/hooks.js';
import { formatReport, reportToJSON } from '../../stability/report-format.js';
import { DEFAULT_BASE_DIR, SnapshotStore, groupId } from '../../stability/snapshot-store.js';

interface Common {
  baseDir?: string;
  topK?: number;
  samplePairs?: number;
  config?: string;
  json?: boolean;
  matrices?: boolean;
  failOnWarning?: boolean;
}

/** Largest --top-k / --sample-pairs taken: far above any real feature count or pair sample. */
const MAX_COUNT = 1_000_000;

const positiveInt = integerIn(1, MAX_COUNT);

function configFrom(o: Common) {
  const base = resolveStabilityConfig({ configPath: o.config, warn: warnToStderr });
  return mergeStabilityConfig(base, { baseDir: o.baseDir, topK: o.topK, samplePairs: o.samplePairs });
}

function print(result: GroupAnalyses, o: Common): void {
  if (o.json) {
    process.stdout.write(
      JSON.stringify({ reports: result.reports.map(reportToJSON), errors: result.errors, issues: result.issues }, null, 2) + '\n',
    );
    return;
  }
  const blocks = result.reports.map((r) => formatReport(r));
  for (const e of result.errors) blocks.push(`${groupId(e.group)}: ${e.runs} runs: analysis FAILED: ${e.error.message} [${e.error.code}]`);
  if (blocks.length) process.stdout.write(blocks.join('\n\n') + '\n');
  for (const i of result.issues) process.stdout.write(`skipped ${i.path}: ${i.reason}\n`);
}

function exitCode(result: GroupAnalyses, o: Common): void {
  if (result.errors.length > 0) process.exitCode = 1;
  else if (o.failOnWarning && result.reports.some((r) => r.warnings.length > 0)) process.exitCode = 3;
}

export function registerStability(program: Command): void {
  const cmd = program.command('stability').description('feature-importance stability across runs');
  const common = (c: Command) =>
    c
      .option('--base-dir <dir>', `snapshot store (default ${DEFAULT_BASE_DIR})`)
      .option('--top-k <k>', `size of the top sets, an integer ≥ 1 (default ${DEFAULT_TOP_K})`, positiveInt)
      .option(
        '--sample-pairs <n>',
        'estimate weighted tau and RBO from a seeded sample of n pairs (default: every pair, exact)',
        positiveInt,
      )
      .option(
        '--config <file>',
        'YAML with safety.feature_importance settings (default: $TFT_STABILITY_CONFIG, then configs/safety_config.yaml)',
      )
      .option('--json', 'machine-readable output: { reports, errors, issues }')
      .option('--matrices', 'with --json: include the pairwise matrices')
      .option('--fail-on-warning', 'exit with code 3 when a metric is below its threshold or n/a');
  common(
    cmd
      .command('analyze')
      .description('one (target, method): each universe found is a group, or only --universe U')
      .requiredOption('--target <name>', 'target name')
      .requiredOption('--method <name>', 'importance method (lightgbm, tft_vsn, …)')
      .option('--universe <id>', 'only this universe id (ALL for cross-sectional); default: every universe'),
  ).action(async (o: Common & { target: string; method: string; universe?: string }) => {
    const cfg = configFrom(o);
    const { snapshots, issues } = await new SnapshotStore(cfg.baseDir).list({
      targetName: o.target,
      method: o.method,
      universeId: o.universe,
    });
    if (snapshots.length === 0) {
      for (const i of issues) process.stderr.write(`skipped ${i.path}: ${i.reason}\n`);
      throw new NotFoundError(
        `no snapshots for ${o.target}/${o.method}${o.universe ? `[${o.universe}]` : ''} under ${cfg.baseDir}`,
        o.target,
      );
    }
    const result = await analyzeGroups(snapshots, issues, {
      topK: cfg.topK,
      thresholds: cfg.thresholds,
      samplePairs: cfg.samplePairs ?? undefined,
      includeMatrices: o.matrices,
    });
    print(result, o);
    exitCode(result, o);
  });
  common(cmd.command('analyze-all').description('every group of the store')).action(async (o: Common) => {
    const cfg = configFrom(o);
    const { snapshots, issues } = await new SnapshotStore(cfg.baseDir).list();
    const result = await analyzeGroups(snapshots, issues, {
      topK: cfg.topK,
      thresholds: cfg.thresholds,
      samplePairs: cfg.samplePairs ?? undefined,
      includeMatrices: o.matrices,
    });
    if (result.reports.length === 0 && result.errors.length === 0) {
      // Nothing matched (an empty store, a missing folder, a file given as the folder): exit 1, as documented.
      for (const i of issues) process.stderr.write(`skipped ${i.path}: ${i.reason}\n`);
      throw new NotFoundError(`no snapshots under ${cfg.baseDir}`, 'baseDir');
    }
    print(result, o);
    exitCode(result, o);
  });
}
