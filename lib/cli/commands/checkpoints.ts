/**
 * `tft-native checkpoints list|show`: what is saved, and whether it verifies. `list` reports folders that look
 * like checkpoints but cannot be read on stderr and still exits 0 (the readable ones are listed); with
 * --fail-on-warning it exits 3 when there are any, as the other commands' warnings do.
 */
import type { Command } from 'commander';

import { CheckpointManager } from '../../checkpoint/checkpoint-manager.js';

const num = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

export function registerCheckpoints(program: Command): void {
  const cmd = program.command('checkpoints').description('list and inspect versioned model checkpoints');
  cmd
    .command('list')
    .description('checkpoints under a root, oldest first')
    .option('--root <dir>', 'checkpoint root', 'checkpoints')
    .option('--model-type <type>', 'only this model type')
    .option('--json', 'machine-readable output')
    .option('--fail-on-warning', 'exit with code 3 when a folder could not be read as a checkpoint')
    .action(async (o: { root: string; modelType?: string; json?: boolean; failOnWarning?: boolean }) => {
      const { checkpoints, issues } = await new CheckpointManager(o.root).scan(o.modelType);
      if (o.failOnWarning && issues.length > 0) process.exitCode = 3;
      if (o.json) {
        process.stdout.write(JSON.stringify({ checkpoints, issues }, null, 2) + '\n');
        return;
      }
      if (checkpoints.length === 0) process.stdout.write(`no checkpoints under ${o.root}\n`);
      else {
        process.stdout.write('type        version  created                    features  OOS Sharpe  path\n');
        for (const c of checkpoints) {
          process.stdout.write(
            `${c.modelType.padEnd(12)}${String(c.version).padStart(7)}  ${c.createdAt.padEnd(25)}  ${String(c.nFeatures).padStart(8)}  ${num(c.oos?.sharpe).padStart(10)}  ${c.path}\n`,
          );
        }
      }
      for (const i of issues) process.stderr.write(`unreadable: ${i.path}: ${i.reason}\n`);
      if (issues.length > 0) {
        const n = issues.length === 1 ? '1 folder' : `${issues.length} folders`;
        process.stderr.write(`warning: ${n} could not be read as a checkpoint (--fail-on-warning makes this exit 3)\n`);
      }
    });
  cmd
    .command('show <dir>')
    .description('metadata of one checkpoint, after verifying every file and tensor')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { json?: boolean }) => {
      const loaded = await CheckpointManager.loadDirectory(dir);
      const m = loaded.metadata;
      loaded.model.dispose();
      if (o.json) {
        process.stdout.write(JSON.stringify({ path: loaded.path, verified: true, metadata: m }, null, 2) + '\n');
        return;
      }
      const lines = [
        `${loaded.path}: verified (sha256 of ${Object.keys(m.files).length} file(s), metadata digest, ${m.nFeatures} features, tensors match the config)`,
        `model type ${m.modelType}, version ${m.version}, created ${m.createdAt}${m.gitCommit ? `, git ${m.gitCommit.slice(0, 12)}${m.gitDirty ? ' (dirty)' : ''}` : ''}`,
        `config: ${Object.entries(m.config)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(' ')}`,
        `assets (${m.nAssets}): ${m.assetNames.slice(0, 12).join(', ')}${m.nAssets > 12 ? ', …' : ''}`,
        `features (${m.nFeatures}): ${m.featureNames.slice(0, 12).join(', ')}${m.nFeatures > 12 ? ', …' : ''}`,
        `normalization: ${m.normalization ? `fitted on ${m.normalization.startDate ?? '?'} .. ${m.normalization.endDate ?? '?'}` : 'none'}`,
      ];
      if (m.featureSelection) {
        const f = m.featureSelection;
        const how = [
          f.method,
          f.folds !== undefined ? `over ${f.folds} fold(s)` : undefined,
          f.rankStability != null ? `rank stability ${num(f.rankStability)}` : undefined,
        ].filter(Boolean);
        lines.push(`feature selection: ${f.selected.length} selected${how.length ? ` (${how.join(', ')})` : ''}`);
      }
      if (m.hpTuning)
        lines.push(
          `HP tuning: best value ${num(m.hpTuning.bestValue)}, ${Object.entries(m.hpTuning.bestParams)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(' ')}`,
        );
      if (m.oos)
        lines.push(
          `OOS: Sharpe ${num(m.oos.sharpe)}, total return ${num(m.oos.totalReturn, 3)}, max drawdown ${num(m.oos.maxDrawdown, 3)}`,
        );
      for (const f of m.trainingInfo?.folds ?? []) {
        lines.push(
          `  fold ${f.index}: train ${f.train.start}..${f.train.end}, test ${f.test.start}..${f.test.end}, Sharpe ${num(f.sharpe)}`,
        );
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
