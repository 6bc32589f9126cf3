/**
 * `tft-native stability analyze|analyze-all`: feature-importance stability across runs. Exit code 0 unless an
 * error occurs; with --fail-on-warning, 3 when a metric is below its threshold (for CI).
 */
import type { Command } from 'commander';

import { analyzeGroup } from '../../stability/analysis.js';
import { DEFAULT_STABILITY_CONFIG, loadStabilityConfig, mergeStabilityConfig } from '../../stability/config.js';
import { formatReport, reportToJSON } from '../../stability/report-format.js';
import { SnapshotStore, groupId } from '../../stability/snapshot-store.js';
import type { Snapshot } from '../../stability/snapshot.js';
import { NotFoundError } from '../../errors.js';

interface Common {
  baseDir?: string;
  topK?: string;
  config?: string;
  json?: boolean;
  matrices?: boolean;
  failOnWarning?: boolean;
}

function configFrom(o: Common) {
  const base = o.config ? loadStabilityConfig(o.config) : DEFAULT_STABILITY_CONFIG;
  return mergeStabilityConfig(base, { baseDir: o.baseDir, topK: o.topK !== undefined ? Number(o.topK) : undefined });
}

export function registerStability(program: Command): void {
  const cmd = program.command('stability').description('feature-importance stability across runs');
  const common = (c: Command) =>
    c
      .option('--base-dir <dir>', 'snapshot store (default artifacts/feature_importance)')
      .option('--top-k <k>', 'size of the top sets (default 20)')
      .option('--config <file>', 'YAML with safety.feature_importance settings and thresholds')
      .option('--json', 'machine-readable output')
      .option('--matrices', 'with --json: include the pairwise matrices')
      .option('--fail-on-warning', 'exit with code 3 when a metric is below its threshold');
  common(
    cmd
      .command('analyze')
      .description('one (target, method[, universe]) group')
      .requiredOption('--target <name>', 'target name')
      .requiredOption('--method <name>', 'importance method (lightgbm, tft_vsn, …)')
      .option('--universe <id>', 'universe id (ALL for cross-sectional)'),
  ).action(async (o: Common & { target: string; method: string; universe?: string }) => {
    const cfg = configFrom(o);
    const { snapshots, issues } = await new SnapshotStore(cfg.baseDir).list({ targetName: o.target, method: o.method, universeId: o.universe ?? null });
    if (snapshots.length === 0) {
      throw new NotFoundError(`no snapshots for ${o.target}/${o.method}${o.universe ? `[${o.universe}]` : ''} under ${cfg.baseDir}`, o.target);
    }
    const report = await analyzeGroup(snapshots, { topK: cfg.topK, thresholds: cfg.thresholds, issues, includeMatrices: o.matrices });
    process.stdout.write((o.json ? JSON.stringify(reportToJSON(report), null, 2) : formatReport(report)) + '\n');
    if (o.failOnWarning && report.warnings.length > 0) process.exitCode = 3;
  });
  common(cmd.command('analyze-all').description('every group of the store')).action(async (o: Common) => {
    const cfg = configFrom(o);
    const { snapshots, issues } = await new SnapshotStore(cfg.baseDir).list();
    const groups = new Map<string, Snapshot[]>();
    for (const s of snapshots) groups.set(groupId(s), [...(groups.get(groupId(s)) ?? []), s]);
    const reports = [];
    for (const id of [...groups.keys()].sort()) reports.push(await analyzeGroup(groups.get(id)!, { topK: cfg.topK, thresholds: cfg.thresholds, includeMatrices: o.matrices }));
    if (o.json) process.stdout.write(JSON.stringify({ reports: reports.map(reportToJSON), issues }, null, 2) + '\n');
    else {
      if (reports.length === 0) process.stdout.write(`no snapshots under ${cfg.baseDir}\n`);
      process.stdout.write(reports.map((r) => formatReport(r)).join('\n\n') + '\n');
      for (const i of issues) process.stdout.write(`skipped ${i.path}: ${i.reason}\n`);
    }
    if (o.failOnWarning && reports.some((r) => r.warnings.length > 0)) process.exitCode = 3;
  });
}
