/**
 * The integration points a training driver calls: save a snapshot after computing importances,
 * optionally analyse its group right away, and analyse every group at the end of a run.
 *
 * Configuration, first match wins: the `config` object; else the YAML file named by `configPath`, else by
 * $TFT_STABILITY_CONFIG, else configs/safety_config.yaml or CONFIG/training_config/safety_config.yaml in the
 * working directory when present; else the built-in defaults. Programmatic options (`outputDir`,
 * `autoAnalyze`, `topK`, `thresholds`) override whichever applies.
 */
import { InvalidArgumentError, TftError } from '../errors.js';
import { analyzeGroup, type AnalyzeOptions, type StabilityReport } from './analysis.js';
import { mergeStabilityConfig, resolveStabilityConfig, type StabilityConfig, type StabilityThresholds } from './config.js';
import type { Snapshot } from './snapshot.js';
import { SnapshotStore, groupId, groupSnapshots, type GroupKey, type StoreIssue } from './snapshot-store.js';

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
    if (names.length !== values.length)
      throw new InvalidArgumentError(`importance: ${names.length} names but ${values.length} values`, 'importance');
    return { names: [...names], values };
  }
  const entries = Object.entries(importance as Record<string, number>);
  return { names: entries.map(([k]) => k), values: entries.map(([, v]) => v) };
}

interface ConfigOptions {
  /** A config already loaded; when given, no file is looked up. */
  config?: StabilityConfig;
  /** A YAML file with the `safety.feature_importance` section (must exist). */
  configPath?: string;
  topK?: number;
  /** Opt-in: weighted tau and RBO from a seeded sample of this many pairs (null: every pair, the default). */
  samplePairs?: number | null;
  thresholds?: Partial<StabilityThresholds>;
  logger?: StabilityLogger;
}

function configOf(o: ConfigOptions, over: { baseDir?: string; autoAnalyze?: boolean }, log: StabilityLogger): StabilityConfig {
  const base = o.config ?? resolveStabilityConfig({ configPath: o.configPath, warn: (m) => log.warn(m) });
  return mergeStabilityConfig(base, { ...over, topK: o.topK, samplePairs: o.samplePairs, thresholds: o.thresholds });
}

export interface SaveSnapshotHookOptions extends ConfigOptions {
  targetName: string;
  method: string;
  importance: ImportanceInput;
  universeId?: string | null;
  /** Store base directory (default: the config's, `artifacts/feature_importance`). */
  outputDir?: string;
  /** Analyse the snapshot's group after saving (default: the config's auto_analyze_stability). */
  autoAnalyze?: boolean;
  /** A run id of your own (default a new UUIDv4); an existing one is a ConflictError unless `overwrite`. */
  runId?: string;
  overwrite?: boolean;
  fold?: number | null;
  seed?: number | null;
  gitCommit?: string | null;
  metadata?: Record<string, unknown>;
}

export interface SaveSnapshotResult {
  path: string;
  snapshot: Snapshot;
  /** The group's analysis, when auto-analysis ran and succeeded. */
  report?: StabilityReport;
  /** Why auto-analysis failed (the snapshot is saved regardless; the failure was logged as a warning). */
  analysisError?: { code: string; message: string };
}

const errorInfo = (e: unknown) => ({
  code: e instanceof TftError ? e.code : 'ERR_UNEXPECTED',
  message: e instanceof Error ? e.message : String(e),
});

/**
 * Saves one snapshot (errors in the input, the config or the write reject, and nothing is written); with
 * auto-analysis, then analyses its group. An analysis failure never fails the save: it is logged as a
 * warning and returned in `analysisError`.
 */
export async function saveSnapshotHook(o: SaveSnapshotHookOptions): Promise<SaveSnapshotResult> {
  const log = o.logger ?? stderrLogger;
  const cfg = configOf(o, { baseDir: o.outputDir, autoAnalyze: o.autoAnalyze }, log);
  const store = new SnapshotStore(cfg.baseDir);
  const { names, values } = toPairs(o.importance);
  const saved = await store.save({
    targetName: o.targetName,
    method: o.method,
    universeId: o.universeId ?? null,
    features: names,
    importances: values,
    runId: o.runId,
    overwrite: o.overwrite,
    fold: o.fold ?? null,
    seed: o.seed ?? null,
    gitCommit: o.gitCommit ?? null,
    metadata: o.metadata,
  });
  log.info(`saved ${saved.path}`);
  if (!cfg.autoAnalyze) return saved;
  try {
    const { snapshots, issues } = await store.list({ targetName: o.targetName, method: o.method, universeId: o.universeId ?? null });
    const report = await analyzeGroup(snapshots, {
      topK: cfg.topK,
      samplePairs: cfg.samplePairs ?? undefined,
      thresholds: cfg.thresholds,
      issues,
    });
    logReport(report, log);
    return { ...saved, report };
  } catch (e) {
    const analysisError = errorInfo(e);
    log.warn(
      `saved ${saved.path}, but analysing ${groupId({ targetName: o.targetName, method: o.method, universeId: o.universeId ?? null })} failed: ${analysisError.message} [${analysisError.code}]`,
    );
    return { ...saved, analysisError };
  }
}

/** Importances as parallel names and values (the form of a pandas Series' index and values). */
export function saveSnapshotFromSeriesHook(
  o: Omit<SaveSnapshotHookOptions, 'importance'> & { names: readonly string[]; values: ArrayLike<number> },
): Promise<SaveSnapshotResult> {
  const { names, values, ...rest } = o;
  return saveSnapshotHook({ ...rest, importance: { names, values } });
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

export function logReport(r: StabilityReport, log: StabilityLogger): void {
  log.info(
    `${groupId(r.group)}: ${r.runs} runs, top-${r.topK} overlap ${f3(r.topKOverlap.mean)}, Kendall tau ${f3(r.kendallTau.mean)}, ` +
      `weighted tau ${f3(r.weightedTau.mean)}, RBO ${f3(r.rbo.mean)}, Nogueira ${f3(r.nogueira.value)}`,
  );
  for (const w of r.warnings) log.warn(w);
  for (const i of r.issues) log.warn(`skipped ${i.path}: ${i.reason}`);
}

/** A group whose analysis failed: the others are analysed regardless. */
export interface GroupFailure {
  group: GroupKey;
  runs: number;
  error: { code: string; message: string };
}

export interface GroupAnalyses {
  /** One report per group that could be analysed, in group order (target, method, universe). */
  reports: StabilityReport[];
  /** One entry per group whose analysis threw. */
  errors: GroupFailure[];
  /** Store files that were skipped (path + reason). */
  issues: StoreIssue[];
}

/**
 * Analyses each group on its own: a failure becomes an entry of `errors` and the next group goes on.
 * What the CLI and analyzeAllStabilityHook share.
 */
export async function analyzeGroups(
  snapshots: readonly Snapshot[],
  issues: StoreIssue[],
  opts: Omit<AnalyzeOptions, 'issues'>,
  log?: StabilityLogger,
): Promise<GroupAnalyses> {
  const out: GroupAnalyses = { reports: [], errors: [], issues };
  for (const { group, snapshots: runs } of groupSnapshots(snapshots)) {
    try {
      const r = await analyzeGroup(runs, opts);
      if (log) logReport(r, log);
      out.reports.push(r);
    } catch (e) {
      const error = errorInfo(e);
      log?.warn(`${groupId(group)}: analysis failed: ${error.message} [${error.code}]`);
      out.errors.push({ group, runs: runs.length, error });
    }
  }
  return out;
}

export interface AnalyzeAllOptions extends ConfigOptions {
  outputDir?: string;
}

/**
 * Every (target, method[, universe]) group of the store, analysed and logged; the store is read once.
 * Skipped files are in `issues`, groups whose analysis failed in `errors`; neither stops the others.
 */
export async function analyzeAllStabilityHook(o: AnalyzeAllOptions = {}): Promise<GroupAnalyses> {
  const log = o.logger ?? stderrLogger;
  const cfg = configOf(o, { baseDir: o.outputDir }, log);
  const { snapshots, issues } = await new SnapshotStore(cfg.baseDir).list();
  for (const i of issues) log.warn(`skipped ${i.path}: ${i.reason}`);
  return analyzeGroups(snapshots, issues, { topK: cfg.topK, samplePairs: cfg.samplePairs ?? undefined, thresholds: cfg.thresholds }, log);
}
