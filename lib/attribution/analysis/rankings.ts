/**
 * Feature importance rankings, overall and by group (the catalogue's families, or any grouping the caller
 * gives): normalised scores, the top N of each group, and each group's share of the total importance.
 */
import { InvalidArgumentError } from '../../errors.js';
import { importanceShares, normalizedScores } from './quality.js';

export interface RankedFeature {
  feature: string;
  /** Normalised score in [0, 1] (the top feature overall scores 1). */
  score: number;
}

export interface GroupRanking {
  group: string;
  /** The group's share of the total importance, in [0, 1]. */
  share: number;
  /** Its features, most important first (the top N when asked). */
  features: RankedFeature[];
}

export interface FeatureRankings {
  overall: RankedFeature[];
  byGroup: GroupRanking[];
}

/** Group of each feature: a map name → group; features it does not name form the group 'other'. */
export function groupOf(names: readonly string[], groups?: ReadonlyMap<string, string> | Record<string, string>): string[] {
  const get = (n: string) => (groups instanceof Map ? groups.get(n) : (groups as Record<string, string> | undefined)?.[n]);
  return names.map((n) => get(n) ?? 'other');
}

export function featureRankings(
  importance: ArrayLike<number>,
  names: readonly string[],
  groups: readonly string[],
  topN = Infinity,
): FeatureRankings {
  if (names.length !== importance.length || groups.length !== importance.length)
    throw new InvalidArgumentError(
      `names: ${names.length} names and ${groups.length} groups for ${importance.length} importances`,
      'names',
    );
  const scores = normalizedScores(importance);
  const shares = importanceShares(importance);
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const overall = order.map((i) => ({ feature: names[i]!, score: scores[i]! }));
  const byGroup = new Map<string, GroupRanking>();
  for (const i of order) {
    const g = groups[i]!;
    const entry = byGroup.get(g) ?? { group: g, share: 0, features: [] };
    entry.share += shares[i]!;
    if (entry.features.length < topN) entry.features.push({ feature: names[i]!, score: scores[i]! });
    byGroup.set(g, entry);
  }
  return { overall, byGroup: [...byGroup.values()].sort((a, b) => b.share - a.share) };
}
