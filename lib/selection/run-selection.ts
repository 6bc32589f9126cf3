/**
 * A selection run, seed 004's phases 1–3: per walk-forward fold, Tier 1 on the fold's training rows, an
 * exploration training (abbreviated epochs) on the survivors inside the fold's training range — its last
 * validation block becomes the exploration model's validation, after the run's purge gap — then the VSN
 * weights of that model, mutual information on the training rows and permutation importance on the fold's
 * test days; finally Tier 2 per fold, method agreement and a consensus ranking.
 *
 * Cost: folds × (one correlation GEMM over the training rows + one abbreviated training + MI over
 * candidates × rows log rows + permutation maxFeatures × repeats rolling predictions of the test range).
 */
import { subsetFeatures } from '../data/feature-subset.js';
import { InvalidArgumentError } from '../errors.js';
import { resolveTrainingConfig, type TrainingConfig } from '../training/config.js';
import type { Fold } from '../training/folds.js';
import type { FoldSession } from '../training/fold-session.js';
import { runFold, type FoldResult } from '../training/walk-forward.js';
import { throwIfCancelled, type TrainingEvent } from '../training/walk-forward-events.js';
import { HORIZON, planWalkForward, type TrainingDataset, type WalkForwardPlan } from '../training/walk-forward-plan.js';
import { FeatureSelector, type ExplorationFold } from './feature-selector.js';
import { permutationImportance, type PermutationScore } from './permutation-importance.js';
import { prefilterFold, type PrefilterResult } from './prefilter.js';
import { consensusMerge, rankAgreement, type MethodScores } from './rank-agreement.js';
import { mutualInfoRegression } from './statistics.js';
import { trainingRows } from './training-rows.js';

export type SelectionEvent =
  | { type: 'prefilter'; fold: number; result: PrefilterResult }
  | { type: 'exploration-start'; fold: number; features: number; innerTrain: [string, string]; innerValidation: [string, string] }
  | { type: 'exploration-end'; fold: number; exploration: ExplorationFold }
  | { type: 'tier2'; fold: number; selected: number; fallback: boolean }
  /** An event of an exploration training (epochs, steps), for progress bars. */
  | { type: 'training'; event: TrainingEvent };

export interface SelectionRunOptions {
  config: TrainingConfig | Record<string, unknown>;
  dataset?: TrainingDataset;
  onEvent?: (e: SelectionEvent) => void;
  signal?: AbortSignal;
}

export async function runFeatureSelection(opts: SelectionRunOptions): Promise<FeatureSelector> {
  const t0 = performance.now();
  const config = explorationConfig(resolveTrainingConfig(opts.config));
  const emit = opts.onEvent ?? (() => {});
  const plan = await planWalkForward({ config, dataset: opts.dataset, onEvent: (event) => emit({ type: 'training', event }) });
  const folds: ExplorationFold[] = [];
  for (const fold of plan.folds) {
    throwIfCancelled(opts.signal);
    folds.push(await exploreFold(plan, fold, opts, emit));
  }
  const sc = config.selection;
  const methods = validationMethods(folds);
  const selector = FeatureSelector.fromExploration({
    createdAt: new Date().toISOString(),
    config: sc,
    data: {
      symbols: plan.prices.symbols,
      firstDate: plan.prices.dates[0]!,
      lastDate: plan.prices.dates.at(-1)!,
      features: plan.features.names,
      groups: plan.features.groups,
    },
    folds,
    agreement: methods.length >= 2 ? await rankAgreement(methods, sc.disagreementGap) : null,
    consensus: consensusMerge(methods),
    seconds: (performance.now() - t0) / 1000,
  });
  selector.state.selections.forEach((s) => emit({ type: 'tier2', fold: s.fold, selected: s.features.length, fallback: s.fallback }));
  return selector;
}

/**
 * The run's config with the exploration epochs (never more than its own) and no checkpoint or snapshots. The
 * run's attribution analyses (attribution.everyEpochs) stay: their methods join the agreement and consensus.
 */
function explorationConfig(c: TrainingConfig): TrainingConfig {
  const e = c.selection.exploration;
  return resolveTrainingConfig({
    ...c,
    training: {
      ...c.training,
      pretrainEpochs: Math.min(c.training.pretrainEpochs, e.pretrainEpochs),
      finetuneEpochs: Math.min(c.training.finetuneEpochs, e.finetuneEpochs),
    },
    output: { ...c.output, saveCheckpoint: false, stabilityDir: undefined },
  });
}

/**
 * The exploration model's fold inside fold k's training range: validation on its last min(validationDays,
 * a quarter of the range) window days whose labels end by the training end, then the run's purge gap, then
 * training on the rest. The test range stays the fold's own (only permutation importance reads it).
 */
export function innerFold(plan: WalkForwardPlan, fold: Fold): Fold {
  const { train, gap } = fold;
  const dates = plan.prices.dates;
  const V = Math.min(plan.config.folds.validationDays, Math.floor((train.end - train.start + 1) / 4));
  const vEnd = train.end - HORIZON;
  const vStart = vEnd - V + 1;
  const tEnd = vStart - gap - 1;
  if (V < 1 || tEnd - train.start + 1 < 2 * plan.config.model.seqLen) {
    throw new InvalidArgumentError(
      `fold ${fold.index}: its ${train.end - train.start + 1} training days are too few for an exploration model ` +
        `(validation block, ${gap}-day gap and ≥ ${2 * plan.config.model.seqLen} training days); use fewer folds, a shorter lookback or more history`,
      'folds',
    );
  }
  const range = (start: number, end: number) => ({ start, end, startDate: dates[start]!, endDate: dates[end]! });
  return { index: fold.index, train: range(train.start, tEnd), validation: range(vStart, vEnd), test: fold.test, gap };
}

async function exploreFold(
  plan: WalkForwardPlan,
  fold: Fold,
  opts: SelectionRunOptions,
  emit: (e: SelectionEvent) => void,
): Promise<ExplorationFold> {
  const t0 = performance.now();
  const sc = plan.config.selection;
  const prefilter = await prefilterFold(
    plan.features,
    plan.labels.target,
    { start: fold.train.start, end: fold.train.end, horizon: HORIZON },
    sc,
  );
  emit({ type: 'prefilter', fold: fold.index, result: prefilter });
  const sub: WalkForwardPlan = { ...plan, features: subsetFeatures(plan.features, prefilter.kept) };
  const inner = innerFold(plan, fold);
  emit({
    type: 'exploration-start',
    fold: fold.index,
    features: prefilter.kept.length,
    innerTrain: [inner.train.startDate, inner.train.endDate],
    innerValidation: [inner.validation.startDate, inner.validation.endDate],
  });
  let permutation: Record<string, PermutationScore> | undefined;
  const { result, model } = await runFold(sub, inner, {
    signal: opts.signal,
    onEvent: (event) => emit({ type: 'training', event }),
    inspectFold: async (session) => {
      if (sc.permutation.enabled) permutation = await topFeaturePermutation(sub, session);
    },
  });
  model.dispose();
  const vsnWeights = Object.fromEntries(result.vsnImportance.map((w) => [w.name, w.weight]));
  const mutualInfo = sc.mutualInfo.enabled ? await foldMutualInfo(sub, fold) : undefined;
  const attribution = attributionScores(result, sub.features.names);
  const exploration: ExplorationFold = {
    fold: fold.index,
    trainStart: fold.train.startDate,
    trainEnd: fold.train.endDate,
    innerTrain: { start: inner.train.startDate, end: inner.train.endDate },
    innerValidation: { start: inner.validation.startDate, end: inner.validation.endDate },
    epochs: result.epochs.length,
    bestValidationLoss: Number.isFinite(result.bestValidationLoss) ? result.bestValidationLoss : null,
    testSharpe: Number.isFinite(result.oos.sharpe) ? result.oos.sharpe : null,
    seconds: (performance.now() - t0) / 1000,
    prefilter,
    vsnWeights,
    ...(mutualInfo && { mutualInfo }),
    ...(permutation && { permutation }),
    ...(attribution && { attribution }),
  };
  emit({ type: 'exploration-end', fold: fold.index, exploration });
  return exploration;
}

/** Permutation importance of the fold model's top features by VSN weight on its validation windows. */
async function topFeaturePermutation(sub: WalkForwardPlan, session: FoldSession): Promise<Record<string, PermutationScore>> {
  const pc = sub.config.selection.permutation;
  const w = await session.trainer.vsnImportance(session.validationWindows);
  const ranked = sub.features.names
    .map((name, i) => ({ name, w: w[i]! }))
    .sort((a, b) => b.w - a.w)
    .map((x) => x.name);
  return permutationImportance(sub, session, pc.maxFeatures > 0 ? ranked.slice(0, pc.maxFeatures) : ranked, pc);
}

/** Each method's mean |attribution| per feature from the fold's last attribution analysis, if it ran any. */
function attributionScores(result: FoldResult, names: readonly string[]): Record<string, Record<string, number>> | undefined {
  const last = result.attribution.at(-1)?.analysis;
  if (!last) return undefined;
  return Object.fromEntries(last.methods.map((m) => [m.method, Object.fromEntries(names.map((n, i) => [n, m.featureImportance[i]!]))]));
}

async function foldMutualInfo(sub: WalkForwardPlan, fold: Fold): Promise<Record<string, number>> {
  const mc = sub.config.selection.mutualInfo;
  const rows = trainingRows(sub.features, sub.labels.target, {
    start: fold.train.start,
    end: fold.train.end,
    horizon: HORIZON,
    maxRows: mc.maxRows,
  });
  const mi = await mutualInfoRegression(rows, rows.y, { nNeighbors: mc.nNeighbors, seed: mc.seed });
  return Object.fromEntries(sub.features.names.map((n, i) => [n, mi[i]!]));
}

/**
 * VSN, MI, permutation and (when the run analyses attributions) each attribution method's mean |attribution|,
 * averaged over the folds that have them (a feature absent from a fold is skipped there).
 */
function validationMethods(folds: readonly ExplorationFold[]): MethodScores[] {
  const mean = (pick: (f: ExplorationFold) => Record<string, number> | undefined): Record<string, number> => {
    const sum: Record<string, number> = {};
    const n: Record<string, number> = {};
    for (const f of folds) {
      for (const [k, v] of Object.entries(pick(f) ?? {})) {
        if (!Number.isFinite(v)) continue;
        sum[k] = (sum[k] ?? 0) + v;
        n[k] = (n[k] ?? 0) + 1;
      }
    }
    return Object.fromEntries(Object.keys(sum).map((k) => [k, sum[k]! / n[k]!]));
  };
  const out: MethodScores[] = [{ method: 'vsn', scores: mean((f) => f.vsnWeights) }];
  if (folds.some((f) => f.mutualInfo)) out.push({ method: 'mutualInfo', scores: mean((f) => f.mutualInfo) });
  if (folds.some((f) => f.permutation)) {
    out.push({
      method: 'permutation',
      scores: mean((f) => f.permutation && Object.fromEntries(Object.entries(f.permutation).map(([k, v]) => [k, v.importance]))),
    });
  }
  const methods = [...new Set(folds.flatMap((f) => Object.keys(f.attribution ?? {})))];
  for (const m of methods) out.push({ method: m, scores: mean((f) => f.attribution?.[m]) });
  return out;
}
