/**
 * The integration points a training driver calls (seed 000): save a snapshot after computing importances,
 * optionally analyse its group right away, and analyse every group at the end of a run.
 */
import { InvalidArgumentError } from '../errors.js';
import { analyzeGroup, type StabilityReport } from './analysis.js';
import { DEFAULT_STABILITY_CONFIG, mergeStabilityConfig, type StabilityConfig, type StabilityThresholds } from './config.js';
import type { Snapshot } from './snapshot.js';
import { SnapshotStore, groupId } from './snapshot-store.js';

export interface StabilityLogger {
  info(message: string): void;
  warn(message: string): void;
}

export const stderrLogger: StabilityLogger = {
  info: (m) => process.stderr.write(`[stability] ${m}\n`),
  warn: (m) => process.stderr.write(`[stability] WARNING ${m}\n`),
};

/** The importance of each feature: a plain object, a Map, or parallel names/values (pandas-Series form). */
export type ImportanceInput = Record<string, number> | Map<string, number> | { names: readonly string[]; values: ArrayLike<number> };

function toPairs(importance: ImportanceInput): { names: string[]; values: number[] } {
  if (importance instanceof Map) return { names: [...importance.keys()], values: [...importance.values()] };
  if ('names' in importance && 'values' in importance && Array.isArray(importance.names)) {
    const names = importance.names as readonly string[];
    const values = Array.from(importance.values as ArrayLike<number>);
    if (names.length !== values.length) throw new InvalidArgumentError(`importance: ${names.length} names but ${values.length} values`, 'importance');
    return { names: [...names], values };
  }
  const entries = Object.entries(importance as Record<string, number>);
  return { names: entries.map(([k]) => k), values: entries.map(([, v]) => v) };
}

export interface SaveSnapshotHookOptions {
  targetName: string;
  method: string;
  importance: ImportanceInput;
  universeId?: string | null;
  /** Store base directory (default: the config's, `artifacts/feature_importance`). */
  outputDir?: string;
  /** Analyse the snapshot's group after saving (default: the config's auto_analyze_stability). */
  autoAnalyze?: boolean;
  fold?: number | null;
  seed?: number | null;
  gitCommit?: string | null;
  metadata?: Record<string, unknown>;
  config?: StabilityConfig;
  topK?: number;
  thresholds?: Partial<StabilityThresholds>;
  logger?: StabilityLogger;
}

export interface SaveSnapshotResult {
  path: string;
  snapshot: Snapshot;
  report?: StabilityReport;
}

export async function saveSnapshotHook(o: SaveSnapshotHookOptions): Promise<SaveSnapshotResult> {
  const cfg = mergeStabilityConfig(o.config ?? DEFAULT_STABILITY_CONFIG, { baseDir: o.outputDir, autoAnalyze: o.autoAnalyze, topK: o.topK, thresholds: o.thresholds });
  const log = o.logger ?? stderrLogger;
  const store = new SnapshotStore(cfg.baseDir);
  const { names, values } = toPairs(o.importance);
  const saved = await store.save({
    targetName: o.targetName,
    method: o.method,
    universeId: o.universeId ?? null,
    features: names,
    importances: values,
    fold: o.fold ?? null,
    seed: o.seed ?? null,
    gitCommit: o.gitCommit ?? null,
    metadata: o.metadata,
  });
  log.info(`saved ${saved.path}`);
  if (!cfg.autoAnalyze) return saved;
  const { snapshots, issues } = await store.list({ targetName: o.targetName, method: o.method, universeId: o.universeId ?? null });
  const report = await analyzeGroup(snapshots, { topK: cfg.topK, thresholds: cfg.thresholds, issues });
  logReport(report, log);
  return { ...saved, report };
}

/** The seed's Series form: parallel names and values. */
export function saveSnapshotFromSeriesHook(o: Omit<SaveSnapshotHookOptions, 'importance'> & { names: readonly string[]; values: ArrayLike<number> }): Promise<SaveSnapshotResult> {
  const { names, values, ...rest } = o;
  return saveSnapshotHook({ ...rest, importance: { names, values } });
}

export function logReport(r: StabilityReport, log: StabilityLogger): void {
  log.info(
    `${groupId(r.group)}: ${r.runs} runs, top-${r.topK} overlap ${r.topKOverlap.mean.toFixed(3)}, Kendall tau ${r.kendallTau.mean.toFixed(3)}, ` +
      `weighted tau ${r.weightedTau.mean.toFixed(3)}, RBO ${r.rbo.mean.toFixed(3)}, Nogueira ${r.nogueira.value.toFixed(3)}`,
  );
  for (const w of r.warnings) log.warn(w);
  for (const i of r.issues) log.warn(`skipped ${i.path}: ${i.reason}`);
}

export interface AnalyzeAllOptions {
  outputDir?: string;
  config?: StabilityConfig;
  topK?: number;
  thresholds?: Partial<StabilityThresholds>;
  logger?: StabilityLogger;
}

/** Every (target, method[, universe]) group of the store, analysed and logged; the store is read once. */
export async function analyzeAllStabilityHook(o: AnalyzeAllOptions = {}): Promise<StabilityReport[]> {
  const cfg = mergeStabilityConfig(o.config ?? DEFAULT_STABILITY_CONFIG, { baseDir: o.outputDir, topK: o.topK, thresholds: o.thresholds });
  const log = o.logger ?? stderrLogger;
  const { snapshots, issues } = await new SnapshotStore(cfg.baseDir).list();
  const groups = new Map<string, Snapshot[]>();
  for (const s of snapshots) {
    const id = groupId(s);
    groups.set(id, [...(groups.get(id) ?? []), s]);
  }
  for (const i of issues) log.warn(`skipped ${i.path}: ${i.reason}`);
  const reports: StabilityReport[] = [];
  for (const id of [...groups.keys()].sort()) {
    const r = await analyzeGroup(groups.get(id)!, { topK: cfg.topK, thresholds: cfg.thresholds });
    logReport(r, log);
    reports.push(r);
  }
  return reports;
}
