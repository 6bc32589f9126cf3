/**
 * Attribution health: each analysis number against the seed's bands, as good / warn / bad with a reason.
 * The bands are configurable in YAML (configs/attribution_health.yaml, `attribution_health:`):
 *
 *   attribution_health:
 *     consensus: { high: 0.7, low: 0.4 }              # > high good; low..high moderate; < low bad
 *     sparsity: { healthy: [0.2, 0.4], too_uniform: 0.1, too_sparse: 0.6 }
 *     concentration: { balanced: [0.1, 0.3], too_spread: 0.05, too_concentrated: 0.5 }
 *     infidelity: { good: 0.05, poor: 0.1 }
 *     sensitivity: { good: 0.1, poor: 0.3 }
 *     max_feature_share: 0.95                          # no single feature above this share of the total
 *     dead_features: { review: 6, problem: 16 }        # counts from which they need review / are a problem
 */
import { z } from 'zod';

import { SchemaError } from '../../errors.js';
import { readYamlFile } from '../../io/yaml-file.js';

export interface HealthThresholds {
  consensus: { high: number; low: number };
  sparsity: { healthy: [number, number]; tooUniform: number; tooSparse: number };
  concentration: { balanced: [number, number]; tooSpread: number; tooConcentrated: number };
  infidelity: { good: number; poor: number };
  sensitivity: { good: number; poor: number };
  maxFeatureShare: number;
  deadFeatures: { review: number; problem: number };
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  consensus: { high: 0.7, low: 0.4 },
  sparsity: { healthy: [0.2, 0.4], tooUniform: 0.1, tooSparse: 0.6 },
  concentration: { balanced: [0.1, 0.3], tooSpread: 0.05, tooConcentrated: 0.5 },
  infidelity: { good: 0.05, poor: 0.1 },
  sensitivity: { good: 0.1, poor: 0.3 },
  maxFeatureShare: 0.95,
  deadFeatures: { review: 6, problem: 16 },
};

export type HealthLevel = 'good' | 'warn' | 'bad';

export interface HealthCheck {
  metric: 'consensus' | 'sparsity' | 'concentration' | 'infidelity' | 'sensitivity' | 'maxFeatureShare' | 'deadFeatures' | 'gradientFlow';
  value: number;
  level: HealthLevel;
  reason: string;
}

export interface HealthInputs {
  consensus?: number;
  sparsity: number;
  concentration: number;
  infidelity?: number;
  sensitivity?: number;
  maxFeatureShare: number;
  deadFeatures?: number;
  /** Layers with vanishing / exploding gradients (training-time analyses). */
  gradientProblems?: number;
}

function lowerIsBetter(metric: HealthCheck['metric'], v: number, good: number, poor: number, what: string): HealthCheck {
  if (v < good) return { metric, value: v, level: 'good', reason: `${what} (< ${good})` };
  if (v <= poor) return { metric, value: v, level: 'warn', reason: `moderate (${good}–${poor})` };
  return { metric, value: v, level: 'bad', reason: `poor (> ${poor})` };
}

export function assessHealth(h: HealthInputs, t: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS): HealthCheck[] {
  const out: HealthCheck[] = [];
  if (h.consensus !== undefined) {
    const c = h.consensus;
    out.push(
      c > t.consensus.high
        ? { metric: 'consensus', value: c, level: 'good', reason: `methods agree (> ${t.consensus.high})` }
        : c >= t.consensus.low
          ? { metric: 'consensus', value: c, level: 'warn', reason: `moderate agreement (${t.consensus.low}–${t.consensus.high})` }
          : { metric: 'consensus', value: c, level: 'bad', reason: `methods disagree (< ${t.consensus.low})` },
    );
  }
  const s = h.sparsity;
  const [s0, s1] = t.sparsity.healthy;
  out.push(
    s >= s0 && s <= s1
      ? { metric: 'sparsity', value: s, level: 'good', reason: `some features matter more than others (${s0}–${s1})` }
      : s < t.sparsity.tooUniform
        ? {
            metric: 'sparsity',
            value: s,
            level: 'warn',
            reason: `too uniform (< ${t.sparsity.tooUniform}): every feature about as important`,
          }
        : s > t.sparsity.tooSparse
          ? { metric: 'sparsity', value: s, level: 'warn', reason: `too sparse (> ${t.sparsity.tooSparse}): few features do all the work` }
          : { metric: 'sparsity', value: s, level: 'warn', reason: `outside the healthy band ${s0}–${s1}` },
  );
  const c = h.concentration;
  const [c0, c1] = t.concentration.balanced;
  out.push(
    c >= c0 && c <= c1
      ? { metric: 'concentration', value: c, level: 'good', reason: `balanced (${c0}–${c1})` }
      : c > t.concentration.tooConcentrated
        ? { metric: 'concentration', value: c, level: 'bad', reason: `over-concentrated (> ${t.concentration.tooConcentrated})` }
        : c < t.concentration.tooSpread
          ? {
              metric: 'concentration',
              value: c,
              level: 'warn',
              reason: `too spread out (< ${t.concentration.tooSpread}): no clear important features`,
            }
          : { metric: 'concentration', value: c, level: 'warn', reason: `outside the balanced band ${c0}–${c1}` },
  );
  if (h.infidelity !== undefined)
    out.push(lowerIsBetter('infidelity', h.infidelity, t.infidelity.good, t.infidelity.poor, 'attributions predict the model'));
  if (h.sensitivity !== undefined) out.push(lowerIsBetter('sensitivity', h.sensitivity, t.sensitivity.good, t.sensitivity.poor, 'stable'));
  out.push(
    h.maxFeatureShare > t.maxFeatureShare
      ? {
          metric: 'maxFeatureShare',
          value: h.maxFeatureShare,
          level: 'bad',
          reason: `one feature holds more than ${t.maxFeatureShare} of the importance`,
        }
      : {
          metric: 'maxFeatureShare',
          value: h.maxFeatureShare,
          level: 'good',
          reason: `no single feature dominates (≤ ${t.maxFeatureShare})`,
        },
  );
  if (h.deadFeatures !== undefined) {
    const d = h.deadFeatures;
    out.push(
      d < t.deadFeatures.review
        ? { metric: 'deadFeatures', value: d, level: 'good', reason: `few unused features (< ${t.deadFeatures.review})` }
        : d < t.deadFeatures.problem
          ? { metric: 'deadFeatures', value: d, level: 'warn', reason: 'review the feature set' }
          : { metric: 'deadFeatures', value: d, level: 'bad', reason: `many unused features (≥ ${t.deadFeatures.problem})` },
    );
  }
  if (h.gradientProblems !== undefined)
    out.push(
      h.gradientProblems === 0
        ? { metric: 'gradientFlow', value: 0, level: 'good', reason: 'no vanishing or exploding layers' }
        : {
            metric: 'gradientFlow',
            value: h.gradientProblems,
            level: 'bad',
            reason: 'layers with vanishing (< 1e-7) or exploding (> 1e3) gradients',
          },
    );
  return out;
}

const pair = z.tuple([z.number(), z.number()]).refine(([a, b]) => a <= b, 'must be [low, high]');
const Schema = z
  .object({
    attribution_health: z
      .object({
        consensus: z.object({ high: z.number(), low: z.number() }).strict().partial().optional(),
        sparsity: z.object({ healthy: pair, too_uniform: z.number(), too_sparse: z.number() }).strict().partial().optional(),
        concentration: z.object({ balanced: pair, too_spread: z.number(), too_concentrated: z.number() }).strict().partial().optional(),
        infidelity: z.object({ good: z.number(), poor: z.number() }).strict().partial().optional(),
        sensitivity: z.object({ good: z.number(), poor: z.number() }).strict().partial().optional(),
        max_feature_share: z.number().min(0).max(1).optional(),
        dead_features: z
          .object({ review: z.number().int().min(0), problem: z.number().int().min(0) })
          .strict()
          .partial()
          .optional(),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .passthrough();

/** The `attribution_health` section of a document merged over the defaults; unknown keys are SchemaErrors. */
export function healthThresholdsFrom(doc: unknown, where = 'config'): HealthThresholds {
  const r = Schema.safeParse(doc ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new SchemaError(`${where}: ${issue.path.join('.')}: ${issue.message}`, issue.path.join('.'));
  }
  const h = r.data.attribution_health ?? {};
  const d = DEFAULT_HEALTH_THRESHOLDS;
  return {
    consensus: { ...d.consensus, ...h.consensus },
    sparsity: {
      healthy: h.sparsity?.healthy ?? d.sparsity.healthy,
      tooUniform: h.sparsity?.too_uniform ?? d.sparsity.tooUniform,
      tooSparse: h.sparsity?.too_sparse ?? d.sparsity.tooSparse,
    },
    concentration: {
      balanced: h.concentration?.balanced ?? d.concentration.balanced,
      tooSpread: h.concentration?.too_spread ?? d.concentration.tooSpread,
      tooConcentrated: h.concentration?.too_concentrated ?? d.concentration.tooConcentrated,
    },
    infidelity: { ...d.infidelity, ...h.infidelity },
    sensitivity: { ...d.sensitivity, ...h.sensitivity },
    maxFeatureShare: h.max_feature_share ?? d.maxFeatureShare,
    deadFeatures: { ...d.deadFeatures, ...h.dead_features },
  };
}

export function loadHealthThresholds(file: string): HealthThresholds {
  return healthThresholdsFrom(readYamlFile(file), file);
}
