/**
 * Stability snapshots of a fold: its VSN importance (method tft_vsn) and, when the fold ran attribution
 * analyses, each method's feature importance from the last one (integrated_gradients, gradient_shap, …),
 * so `tft-native stability analyze` tracks how the rankings move from fold to fold and from run to run.
 */
import { DEFAULT_STABILITY_CONFIG } from '../stability/config.js';
import { saveSnapshotHook } from '../stability/hooks.js';
import type { FoldResult } from './walk-forward.js';

/** Writes the fold's VSN importance into the store at `stabilityDir`; returns the snapshot's path. */
const quiet = { info: () => {}, warn: () => {} };

/** Stability-store method names of the attribution methods (snake case, as the Python tool names them). */
export function snapshotMethodName(method: string): string {
  return method.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

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
    logger: quiet,
  });
  return saved.path;
}

/** One snapshot per method of the fold's last attribution analysis; none without analyses. */
export async function saveAttributionSnapshots(
  result: Pick<FoldResult, 'fold' | 'attribution'>,
  featureNames: readonly string[],
  stabilityDir: string,
  seed: number,
): Promise<{ method: string; path: string }[]> {
  const last = result.attribution.at(-1);
  if (!last) return [];
  const names = [...featureNames];
  const out: { method: string; path: string }[] = [];
  for (const m of last.analysis.methods) {
    const method = snapshotMethodName(m.method);
    const saved = await saveSnapshotHook({
      targetName: 'scaled_next_day_return',
      method,
      universeId: 'ALL',
      importance: { names, values: m.featureImportance },
      outputDir: stabilityDir,
      fold: result.fold.index,
      seed,
      metadata: { phase: last.phase, epoch: last.epoch, windows: last.analysis.windows },
      autoAnalyze: false,
      config: DEFAULT_STABILITY_CONFIG,
      logger: quiet,
    });
    out.push({ method, path: saved.path });
  }
  return out;
}
