/**
 * Optuna's MedianPruner (a PercentilePruner at 50): at a reported step, a trial is pruned when its best
 * intermediate value so far is worse than the median of the completed trials' values at that step.
 * Nothing is pruned before nStartupTrials trials completed, before nWarmupSteps, off the intervalSteps
 * grid, or while fewer than nMinTrials completed trials reported that step; a trial whose every value is
 * NaN is pruned. The percentile is numpy's (linear interpolation, NaN ignored).
 */
import { InvalidArgumentError } from '../../errors.js';
import { TrialState, type FrozenTrial } from '../frozen-trial.js';
import type { StudyView } from '../samplers/sampler.js';

export interface Pruner {
  prune(study: StudyView, trial: FrozenTrial): boolean;
}

export interface PercentilePrunerOptions {
  nStartupTrials?: number;
  nWarmupSteps?: number;
  intervalSteps?: number;
  nMinTrials?: number;
}

export class PercentilePruner implements Pruner {
  readonly #percentile: number;
  readonly #nStartup: number;
  readonly #nWarmup: number;
  readonly #interval: number;
  readonly #nMin: number;

  constructor(percentile: number, o: PercentilePrunerOptions = {}) {
    if (!(percentile >= 0 && percentile <= 100))
      throw new InvalidArgumentError(`percentile: must be in [0, 100], got ${percentile}`, 'percentile');
    this.#percentile = percentile;
    this.#nStartup = o.nStartupTrials ?? 5;
    this.#nWarmup = o.nWarmupSteps ?? 0;
    this.#interval = o.intervalSteps ?? 1;
    this.#nMin = o.nMinTrials ?? 1;
    if (this.#nStartup < 0 || this.#nWarmup < 0 || this.#interval < 1 || this.#nMin < 1) {
      throw new InvalidArgumentError('pruner: nStartupTrials, nWarmupSteps ≥ 0 and intervalSteps, nMinTrials ≥ 1', 'pruner');
    }
  }

  prune(study: StudyView, trial: FrozenTrial): boolean {
    const completed = study.trials.filter((t) => t.state === TrialState.COMPLETE);
    if (completed.length === 0 || completed.length < this.#nStartup) return false;
    if (trial.intermediateValues.size === 0) return false;
    const step = Math.max(...trial.intermediateValues.keys());
    if (step < this.#nWarmup || !firstInInterval(step, [...trial.intermediateValues.keys()], this.#nWarmup, this.#interval)) return false;
    const maximize = study.direction === 'maximize';
    const own = [...trial.intermediateValues.values()].filter((v) => !Number.isNaN(v));
    if (own.length === 0) return true;
    const best = maximize ? Math.max(...own) : Math.min(...own);
    const atStep = completed.filter((t) => t.intermediateValues.has(step)).map((t) => t.intermediateValues.get(step)!);
    if (atStep.length < this.#nMin) return false;
    const p = nanPercentile(atStep, maximize ? 100 - this.#percentile : this.#percentile);
    if (Number.isNaN(p)) return false;
    return maximize ? best < p : best > p;
  }
}

export class MedianPruner extends PercentilePruner {
  constructor(o: PercentilePrunerOptions = {}) {
    super(50, o);
  }
}

/** Never prunes. */
export class NopPruner implements Pruner {
  prune(): boolean {
    return false;
  }
}

function firstInInterval(step: number, steps: number[], nWarmup: number, interval: number): boolean {
  const nearestLower = Math.floor((step - nWarmup) / interval) * interval + nWarmup;
  const secondLast = steps.reduce((acc, s) => (s > acc && s !== step ? s : acc), -1);
  return secondLast < nearestLower;
}

/** numpy.nanpercentile with linear interpolation. */
export function nanPercentile(values: readonly number[], q: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}
