/**
 * One tft_vsn snapshot per fold in the stability store: how the model's feature ranking moves from fold to
 * fold and from run to run.
 */
import { DEFAULT_STABILITY_CONFIG } from '../stability/config.js';
import { saveSnapshotHook } from '../stability/hooks.js';
import type { FoldResult } from './walk-forward.js';

/** Writes the fold's VSN importance into the store at `stabilityDir`; returns the snapshot's path. */
export async function saveFoldSnapshot(
  result: Pick<FoldResult, 'fold' | 'vsnImportance' | 'oos'>,
  stabilityDir: string,
  seed: number,
): Promise<string> {
  const { fold, vsnImportance, oos } = result;
  const saved = await saveSnapshotHook({
    targetName: 'scaled_next_day_return',
    method: 'tft_vsn',
    universeId: 'ALL',
    importance: { names: vsnImportance.map((w) => w.name), values: vsnImportance.map((w) => w.weight) },
    outputDir: stabilityDir,
    fold: fold.index,
    seed,
    metadata: { test: [fold.test.startDate, fold.test.endDate], oosSharpe: Number.isFinite(oos.sharpe) ? oos.sharpe : null },
    // The run names its store and never auto-analyses: no config file lookup per fold, and no report.
    autoAnalyze: false,
    config: DEFAULT_STABILITY_CONFIG,
    logger: { info: () => {}, warn: () => {} },
  });
  return saved.path;
}
