/**
 * FeatureSelector: the result of a selection run (Tier 1 per fold, the exploration pass, Tier 2, the
 * validation checks), queryable and serialisable. It holds no model and no data, only what was decided and
 * why, so it can be saved beside a checkpoint (feature_selector.json) and restored anywhere.
 *
 * Fold k's selection reads nothing after fold k's training end: its own Tier 1 (the fold's training rows)
 * and the Tier 2 stability of exploration folds 0..k, each trained and validated inside its own training
 * range. `selectFold(k)` = the features of fold k's Tier 1 that are stable over folds 0..k, by mean VSN
 * weight, at most finalMaxFeatures; if none is stable, fold k's Tier-1 survivors by mean VSN weight (marked
 * `fallback`). The run's recommendation is the last fold's selection: the one the shipped model trains on.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { InvalidArgumentError, NotFoundError, SchemaError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { FeatureSelectionConfigSchema, type FeatureSelectionConfig } from './config.js';
import type { PermutationScore } from './permutation-importance.js';
import type { DroppedFeature, PrefilterResult } from './prefilter.js';
import type { ConsensusEntry, RankAgreement } from './rank-agreement.js';
import { vsnStability, type FoldVsn, type FeatureStabilityReport } from './vsn-stability.js';

export const SELECTOR_FORMAT = 'tft-native/feature-selector';
export const SELECTOR_FILE_NAME = 'feature_selector.json';

export interface ExplorationFold {
  /** The walk-forward fold (index and dates) this exploration belongs to. */
  fold: number;
  trainStart: string;
  trainEnd: string;
  /** The exploration model's own ranges, inside the fold's training range. */
  innerTrain: { start: string; end: string };
  innerValidation: { start: string; end: string };
  epochs: number;
  bestValidationLoss: number | null;
  /** Sharpe of the exploration model on the fold's test days (reported, never used to select). */
  testSharpe: number | null;
  seconds: number;
  prefilter: PrefilterResult;
  vsnWeights: Record<string, number>;
  mutualInfo?: Record<string, number>;
  permutation?: Record<string, PermutationScore>;
  /** Mean |attribution| per feature of each method of the exploration model's last attribution analysis. */
  attribution?: Record<string, Record<string, number>>;
}

export interface FoldSelection {
  fold: number;
  trainEnd: string;
  features: string[];
  fallback: boolean;
  report: FeatureStabilityReport;
  /** Every candidate of the fold not selected, with its reason (Tier 1 and Tier 2). */
  dropped: DroppedFeature[];
}

export interface FeatureSelectorState {
  format: typeof SELECTOR_FORMAT;
  version: 1;
  createdAt: string;
  config: FeatureSelectionConfig;
  data: { symbols: string[]; firstDate: string; lastDate: string; features: string[]; groups: string[] };
  folds: ExplorationFold[];
  selections: FoldSelection[];
  agreement: RankAgreement | null;
  consensus: ConsensusEntry[];
  /** What makes this selection weak, in words (flat VSN weights, unstable selections across folds). */
  warnings: string[];
  seconds: number;
}

/** Below this coefficient of variation a fold's VSN weights are called nearly uniform. */
export const FLAT_VSN_CV = 0.05;
/** Below this upper 95% bound of Nogueira's Φ̂ the folds' selections are called unstable. */
export const UNSTABLE_NOGUEIRA = 0.4;

export class FeatureSelector {
  readonly state: FeatureSelectorState;

  private constructor(state: FeatureSelectorState) {
    this.state = state;
  }

  /** Builds the per-fold selections from the exploration folds (oldest first). */
  static fromExploration(base: Omit<FeatureSelectorState, 'format' | 'version' | 'selections' | 'warnings'>): FeatureSelector {
    const groupOf = groupLookup(base.data.features, base.data.groups);
    const selections = base.folds.map((f, k) => selectionFor(base.folds.slice(0, k + 1), f, groupOf, base.config));
    const warnings = selectionWarnings(base.folds, selections);
    return new FeatureSelector({ format: SELECTOR_FORMAT, version: 1, ...base, selections, warnings });
  }

  static fromJSON(value: unknown, source = 'feature selector'): FeatureSelector {
    const v = value as Partial<FeatureSelectorState> | null;
    if (!v || typeof v !== 'object' || v.format !== SELECTOR_FORMAT) {
      throw new SchemaError(`${source}: not a FeatureSelector state (format must be "${SELECTOR_FORMAT}")`, 'format');
    }
    if (v.version !== 1) throw new SchemaError(`${source}: unsupported version ${String(v.version)}`, 'version');
    const config = FeatureSelectionConfigSchema.safeParse(v.config);
    if (!config.success) throw new SchemaError(`${source}: config: ${config.error.issues[0]!.message}`, 'config');
    if (!Array.isArray(v.folds) || !Array.isArray(v.selections) || v.selections.length !== v.folds.length || !v.data) {
      throw new SchemaError(`${source}: folds and selections must be arrays of equal length, with data`, 'selections');
    }
    for (const s of v.selections) {
      if (!s || typeof s.trainEnd !== 'string' || !Array.isArray(s.features) || !s.features.every((n) => typeof n === 'string')) {
        throw new SchemaError(`${source}: every selection needs a trainEnd date and a list of feature names`, 'selections');
      }
    }
    return new FeatureSelector({ ...(v as FeatureSelectorState), config: config.data });
  }

  /** Reads feature_selector.json, or the one inside a checkpoint folder. */
  static async load(file: string): Promise<FeatureSelector> {
    const target = (await fs.stat(file).catch(() => undefined))?.isDirectory() ? path.join(file, SELECTOR_FILE_NAME) : file;
    const text = await fs.readFile(target, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new NotFoundError(`${target}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, 'features-from');
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new SchemaError(`${target}: not valid JSON (${(e as Error).message})`, 'features-from');
    }
    return FeatureSelector.fromJSON(json, target);
  }

  async save(file: string): Promise<string> {
    await writeFileAtomic(file, JSON.stringify(this.state, null, 1) + '\n');
    return file;
  }

  toJSON(): FeatureSelectorState {
    return this.state;
  }

  get config(): FeatureSelectionConfig {
    return this.state.config;
  }

  /** The features the run recommends: the last fold's selection. */
  get recommendedFeatures(): string[] {
    return [...(this.state.selections.at(-1)?.features ?? [])];
  }

  /** The Tier 2 report over every exploration fold. */
  get report(): FeatureStabilityReport | undefined {
    return this.state.selections.at(-1)?.report;
  }

  /** Fold k's selection (k = the walk-forward fold index). */
  selectFold(fold: number): string[] {
    const s = this.state.selections.find((x) => x.fold === fold);
    if (!s) {
      throw new InvalidArgumentError(`fold ${fold}: the selector has folds ${this.state.selections.map((x) => x.fold).join(', ')}`, 'fold');
    }
    return [...s.features];
  }

  /**
   * The selection a training range ending on `trainEnd` may use: that of the latest selector fold whose
   * training ended on or before it (so a run on other folds never sees a later selection).
   */
  selectFor(trainEnd: string): string[] {
    const usable = this.state.selections.filter((s) => s.trainEnd <= trainEnd);
    if (!usable.length) {
      throw new InvalidArgumentError(
        `features-from: the selector's first fold trained until ${this.state.selections[0]?.trainEnd ?? '(none)'}, after this fold's training end ${trainEnd}; ` +
          'run the selector with earlier folds (more folds or more history)',
        'features-from',
      );
    }
    return [...usable.at(-1)!.features];
  }

  /** Every feature some selection uses: what a panel must hold to train on the selections. */
  allSelectedFeatures(): string[] {
    const set = new Set(this.state.selections.flatMap((s) => s.features));
    return this.state.data.features.filter((n) => set.has(n));
  }
}

/** Coefficient of variation of a fold's VSN weights (0 = uniform). */
export function vsnDispersion(weights: Record<string, number>): number {
  const w = Object.values(weights);
  const mean = w.reduce((a, b) => a + b, 0) / Math.max(1, w.length);
  const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, w.length));
  return mean > 0 ? sd / mean : 0;
}

function selectionWarnings(folds: readonly ExplorationFold[], selections: readonly FoldSelection[]): string[] {
  const out: string[] = [];
  const flat = folds.filter((f) => vsnDispersion(f.vsnWeights) < FLAT_VSN_CV);
  if (flat.length) {
    const cv = flat.map((f) => `fold ${f.fold}: ${vsnDispersion(f.vsnWeights).toFixed(3)}`).join(', ');
    out.push(
      `VSN weights are within a few percent of uniform (coefficient of variation ${cv}; below ${FLAT_VSN_CV}): the exploration ` +
        'models did not learn a selection, so Tier 2 mostly follows noise; train the exploration longer (selection.exploration and the run epochs)',
    );
  }
  const ng = selections.at(-1)?.report.nogueira;
  if (ng && Number.isFinite(ng.value) && ng.ci95[1] < UNSTABLE_NOGUEIRA) {
    out.push(
      `the folds select different features (Nogueira ${ng.value.toFixed(2)}, 95% CI [${ng.ci95[0].toFixed(2)}, ${ng.ci95[1].toFixed(2)}], ` +
        `below ${UNSTABLE_NOGUEIRA}): no stable subset was found`,
    );
  }
  return out;
}

function groupLookup(names: readonly string[], groups: readonly string[]): (name: string) => string {
  const m = new Map(names.map((n, i) => [n, groups[i]!]));
  return (n) => m.get(n) ?? 'unknown';
}

function selectionFor(
  upTo: readonly ExplorationFold[],
  fold: ExplorationFold,
  groupOf: (name: string) => string,
  config: FeatureSelectionConfig,
): FoldSelection {
  const vsn: FoldVsn[] = upTo.map((f) => ({ fold: f.fold, weights: f.vsnWeights }));
  const report = vsnStability(vsn, groupOf, config);
  const kept = new Set(fold.prefilter.kept);
  const stableHere = report.stableFeatures.filter((n) => kept.has(n));
  const fallback = stableHere.length === 0;
  const ranked = fallback
    ? [...kept].sort((a, b) => (report.meanVsnWeight[b] ?? 0) - (report.meanVsnWeight[a] ?? 0) || (a < b ? -1 : 1))
    : stableHere;
  const features = ranked.slice(0, config.finalMaxFeatures);
  const chosen = new Set(features);
  const tier2 = report.dropped.filter((d) => kept.has(d.name) && !chosen.has(d.name));
  const capped = ranked
    .slice(config.finalMaxFeatures)
    .filter((n) => !tier2.some((d) => d.name === n))
    .map((name, i): DroppedFeature => ({
      name,
      group: groupOf(name),
      reason: { tier: 'cap', rank: config.finalMaxFeatures + i + 1, finalMaxFeatures: config.finalMaxFeatures },
    }));
  return {
    fold: fold.fold,
    trainEnd: fold.trainEnd,
    features,
    fallback,
    report,
    dropped: [...fold.prefilter.dropped, ...tier2, ...capped],
  };
}
