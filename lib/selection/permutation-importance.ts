/**
 * Permutation importance of a trained fold's model on its out-of-sample test days only: for each feature,
 * its normalised values over every (asset, test day) cell are shuffled among themselves (seeded; days before
 * the test range, which the first windows read as history, stay as they are), the test range is predicted
 * again with the same rolling prediction as the fold's OOS evaluation, and the importance is the Sharpe
 * ratio lost, averaged over `repeats` shuffles. Training days are never touched or read for the score.
 * Cost: features × repeats rolling predictions of the test range.
 */
import { Xoshiro128 } from '../random/prng.js';
import { mixSeed } from '../random/mix-seed.js';
import { backtest } from '../training/backtest.js';
import type { FoldSession } from '../training/fold-session.js';
import { predictTestPositions } from '../training/oos-prediction.js';
import type { WalkForwardPlan } from '../training/walk-forward-plan.js';

export interface PermutationScore {
  /** Base Sharpe minus the mean Sharpe with the feature shuffled (positive: the model relies on it). */
  importance: number;
  baseSharpe: number;
  permutedSharpe: number[];
}

export interface PermutationOptions {
  repeats: number;
  seed: number;
}

export async function permutationImportance(
  plan: WalkForwardPlan,
  session: FoldSession,
  features: readonly string[],
  opts: PermutationOptions,
): Promise<Record<string, PermutationScore>> {
  const { assets: A, days: D } = session;
  const F = plan.features.names.length;
  const dims = { assets: A, days: D, features: F };
  const { test } = session.fold;
  const sharpe = async () => {
    const position = await predictTestPositions(session, dims, plan.config.model.contextRefreshDays);
    return backtest({
      ...plan.labels,
      position,
      assets: A,
      days: D,
      start: test.start,
      end: test.end,
      costBps: plan.config.training.costBps,
    }).sharpe;
  };
  const base = await sharpe();
  const out: Record<string, PermutationScore> = {};
  const cells: number[] = [];
  for (let a = 0; a < A; a++) for (let d = test.start; d <= test.end; d++) cells.push(a * D + d);
  const saved = new Float32Array(cells.length);
  for (const name of features) {
    const f = plan.features.names.indexOf(name);
    if (f < 0) continue;
    cells.forEach((c, i) => (saved[i] = session.features[c * F + f]!));
    const permuted: number[] = [];
    for (let r = 0; r < opts.repeats; r++) {
      const rng = new Xoshiro128(mixSeed(opts.seed, session.fold.index, f, r));
      const order = shuffled(cells.length, rng);
      cells.forEach((c, i) => (session.features[c * F + f] = saved[order[i]!]!));
      permuted.push(await sharpe());
    }
    cells.forEach((c, i) => (session.features[c * F + f] = saved[i]!));
    const mean = permuted.reduce((s, v) => s + v, 0) / permuted.length;
    out[name] = { importance: base - mean, baseSharpe: base, permutedSharpe: permuted };
  }
  return out;
}

function shuffled(n: number, rng: Xoshiro128): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
