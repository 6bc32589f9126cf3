/**
 * Dead features: features whose normalised importance (score = I / max I) stayed below a threshold in
 * every analysis of a recent history long enough to judge — at least `minWindows` explained windows and
 * `minAnalyses` analyses (a feature that mattered once in that span is alive). Reported by group, with the
 * seed's bands: 0–5 healthy, 6–15 review, more than 15 a problem.
 */
import { InvalidArgumentError } from '../../errors.js';

export interface DeadFeatureOptions {
  /** Normalised score below which a feature counts as unused, default 0.005. */
  threshold?: number;
  /** Explained windows the history must cover, default 200. */
  minWindows?: number;
  /** Analyses the history must hold, default 1. */
  minAnalyses?: number;
}

export type DeadFeatureBand = 'healthy' | 'review' | 'problem';

export interface DeadFeatureReport {
  /** Whether the history is long enough; when not, `features` is empty. */
  sufficientHistory: boolean;
  analyses: number;
  windows: number;
  features: string[];
  byGroup: Record<string, string[]>;
  count: number;
  band: DeadFeatureBand;
}

export function deadFeatureBand(count: number): DeadFeatureBand {
  return count <= 5 ? 'healthy' : count <= 15 ? 'review' : 'problem';
}

interface Entry {
  scores: Float64Array;
  windows: number;
}

export class DeadFeatureTracker {
  readonly #names: readonly string[];
  readonly #groups: readonly string[];
  readonly #history: Entry[] = [];
  /** History kept for judging; older analyses are dropped (the newest always decide). */
  readonly #capacity: number;

  constructor(names: readonly string[], groups: readonly string[], capacity = 1000) {
    if (names.length !== groups.length) throw new InvalidArgumentError('groups: one per feature name', 'groups');
    this.#names = names;
    this.#groups = groups;
    this.#capacity = capacity;
  }

  record(scores: ArrayLike<number>, windows: number): void {
    if (scores.length !== this.#names.length)
      throw new InvalidArgumentError(`scores: ${scores.length} for ${this.#names.length} features`, 'scores');
    if (!Number.isInteger(windows) || windows < 1) throw new InvalidArgumentError(`windows: must be >= 1, got ${windows}`, 'windows');
    this.#history.push({ scores: Float64Array.from(scores), windows });
    if (this.#history.length > this.#capacity) this.#history.shift();
  }

  get analyses(): number {
    return this.#history.length;
  }

  report(o: DeadFeatureOptions = {}): DeadFeatureReport {
    const threshold = o.threshold ?? 0.005;
    const minWindows = o.minWindows ?? 200;
    const minAnalyses = o.minAnalyses ?? 1;
    if (!(threshold > 0 && threshold < 1)) throw new InvalidArgumentError(`threshold: must be in (0, 1), got ${threshold}`, 'threshold');
    // the most recent analyses that together cover minWindows (and number at least minAnalyses)
    let windows = 0;
    let used = 0;
    for (let k = this.#history.length - 1; k >= 0 && (windows < minWindows || used < minAnalyses); k--) {
      windows += this.#history[k]!.windows;
      used++;
    }
    const sufficient = windows >= minWindows && used >= minAnalyses;
    const recent = this.#history.slice(this.#history.length - used);
    const features = sufficient ? this.#names.filter((_, i) => recent.every((e) => e.scores[i]! < threshold)) : [];
    const byGroup: Record<string, string[]> = {};
    for (const g of new Set(this.#groups)) byGroup[g] = [];
    const group = new Map(this.#names.map((n, i) => [n, this.#groups[i]!] as const));
    for (const f of features) byGroup[group.get(f)!]!.push(f);
    return {
      sufficientHistory: sufficient,
      analyses: used,
      windows,
      features,
      byGroup,
      count: features.length,
      band: deadFeatureBand(features.length),
    };
  }
}
