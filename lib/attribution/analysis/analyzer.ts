/**
 * AttributionAnalyzer: one analysis of a buffer of windows — every configured attribution method, their
 * consensus, the quality of the primary method's attribution (sparsity, concentration, infidelity,
 * sensitivity), the consistency of the VSN weights and of the attention, dead features over the
 * analyzer's history, gradient flow when the trainer supplies it, and a health assessment — plus
 * compareDecisions for two inputs. Every heavy step is one native job: each method, the B·n perturbed
 * forward passes of infidelity, the B·n re-explanations of sensitivity, one prediction for the VSN weights
 * and attention. docs/attribution.md ("Attribution analysis") defines every number.
 */
import { InvalidArgumentError } from '../../errors.js';
import { featureCatalogue } from '../../data/feature-catalogue.js';
import type { ModelInput, TFTModel } from '../../model/tft-model.js';
import type { LayerGradient } from '../../training/trainer.js';
import { attributionConsensus, type AttributionConsensus, type ConsensusOptions } from '../consensus.js';
import { Explainer } from '../explainer.js';
import { requireMethod, runMethod, type ExplainMethod, type MethodSettings } from '../run-method.js';
import type { Attribution } from '../types.js';
import { DeadFeatureTracker, type DeadFeatureOptions, type DeadFeatureReport } from './dead-features.js';
import { assessHealth, DEFAULT_HEALTH_THRESHOLDS, type HealthCheck, type HealthThresholds } from './health.js';
import { infidelity, type InfidelityOptions } from './infidelity.js';
import { concentration, DEFAULT_SPARSITY_THRESHOLD, importanceShares, normalizedScores, sparsity } from './quality.js';
import { featureRankings, groupOf, type FeatureRankings } from './rankings.js';
import { sensitivityMax, type SensitivityOptions } from './sensitivity.js';
import {
  attentionDistributions,
  consistencyAcrossRows,
  consistencyOverTime,
  meanDistribution,
  vsnDistributions,
} from './weight-stability.js';

export const DEFAULT_ANALYSIS_METHODS: readonly ExplainMethod[] = ['integratedGradients', 'gradientShap', 'deepLift', 'saliency'];

export interface AnalyzerOptions {
  featureNames: readonly string[];
  /** feature → group; default the catalogue's family for catalogue features, 'other' for the rest. */
  groups?: ReadonlyMap<string, string> | Record<string, string>;
  /** Methods, the first being the primary one (rankings, quality, dead features); short names accepted. */
  methods?: readonly string[];
  nSteps?: number;
  nSamples?: number;
  seed?: number;
  /** Baseline distribution [K·T·F] for deepLiftShap (required with it) and gradientShap. */
  distribution?: Float32Array;
  /** Features per group in the rankings (default 10). */
  topN?: number;
  sparsityThreshold?: number;
  /** Infidelity of the primary attribution (default Gaussian, 10 perturbations); false to skip. */
  infidelity?: InfidelityOptions | false;
  /**
   * Max-sensitivity of the primary method over the buffer's first `windows` windows (default 4), IG at
   * `nSteps` (default min(nSteps, 16)); false to skip.
   */
  sensitivity?: (SensitivityOptions & { windows?: number; nSteps?: number }) | false;
  deadFeatures?: DeadFeatureOptions;
  consensus?: ConsensusOptions;
  thresholds?: HealthThresholds;
}

export interface MethodSummary {
  method: ExplainMethod;
  /** [F] mean |attribution| per feature. */
  featureImportance: number[];
  seconds: number;
  /** Integrated Gradients, DeepLift(Shap): max |Σ attributions − (F(x) − F(baseline))|. */
  maxAbsDelta?: number;
}

export interface PatternStability {
  /** 1 − mean total-variation distance of each window's pattern to the analysis's mean pattern. */
  acrossWindows: number;
  /** 1 − mean TV between consecutive analyses' mean patterns (from the second analysis on). */
  acrossAnalyses?: number;
}

export interface GradientFlow {
  layers: LayerGradient[];
  vanishing: string[];
  exploding: string[];
}

export interface AttributionAnalysis {
  windows: number;
  primaryMethod: ExplainMethod;
  methods: MethodSummary[];
  rankings: FeatureRankings;
  consensus?: Omit<AttributionConsensus, 'matrix'> & { matrix: number[] };
  quality: {
    sparsity: number;
    sparsityThreshold: number;
    concentration: number;
    maxFeatureShare: number;
    infidelity?: number;
    sensitivity?: number;
  };
  vsnStability: PatternStability;
  attentionStability: PatternStability;
  deadFeatures: DeadFeatureReport;
  gradientFlow?: GradientFlow;
  health: HealthCheck[];
  seconds: number;
}

export interface DecisionComparison {
  method: ExplainMethod;
  outputs: [number, number];
  /** Features by |Σ_t A_b − Σ_t A_a|, with the signed difference and each side's total. */
  features: { feature: string; difference: number; a: number; b: number }[];
}

function catalogueGroups(names: readonly string[]): Map<string, string> {
  const known = new Map(featureCatalogue().map((s) => [s.name, s.group] as const));
  return new Map(names.filter((n) => known.has(n)).map((n) => [n, known.get(n)!] as const));
}

/** Per feature, Σ over steps of one window's attribution. */
function featureTotals(a: Attribution, b: number): Float64Array {
  const out = new Float64Array(a.features);
  for (let t = 0; t < a.steps; t++) for (let f = 0; f < a.features; f++) out[f]! += a.attributions[(b * a.steps + t) * a.features + f]!;
  return out;
}

function maxAbs(d?: Float64Array): number | undefined {
  return d ? d.reduce((m, v) => Math.max(m, Math.abs(v)), 0) : undefined;
}

export class AttributionAnalyzer {
  readonly model: TFTModel;
  readonly featureNames: readonly string[];
  readonly groups: readonly string[];
  readonly methods: readonly ExplainMethod[];
  readonly #o: AnalyzerOptions;
  readonly #explainer: Explainer;
  readonly #dead: DeadFeatureTracker;
  readonly #vsnMeans: Float64Array[] = [];
  readonly #attentionMeans: Float64Array[] = [];

  constructor(model: TFTModel, o: AnalyzerOptions) {
    if (o.featureNames.length !== model.config.nFeatures)
      throw new InvalidArgumentError(
        `featureNames: ${o.featureNames.length} names for a model with ${model.config.nFeatures} features`,
        'featureNames',
      );
    this.model = model;
    this.featureNames = [...o.featureNames];
    this.groups = groupOf(this.featureNames, o.groups ?? catalogueGroups(this.featureNames));
    this.methods = (o.methods ?? DEFAULT_ANALYSIS_METHODS).map(requireMethod);
    if (this.methods.length === 0) throw new InvalidArgumentError('methods: needs at least one method', 'methods');
    if (this.methods.includes('deepLiftShap') && !o.distribution)
      throw new InvalidArgumentError('distribution: deepLiftShap needs a baseline distribution', 'distribution');
    this.#o = o;
    this.#explainer = new Explainer(model);
    this.#dead = new DeadFeatureTracker(this.featureNames, this.groups);
  }

  get #settings(): MethodSettings {
    return { nSteps: this.#o.nSteps, nSamples: this.#o.nSamples, seed: this.#o.seed, distribution: this.#o.distribution };
  }

  #steps(input: ModelInput): number {
    return input.steps ?? this.model.config.seqLen;
  }

  async #runMethods(input: ModelInput): Promise<{ results: Attribution[]; summaries: MethodSummary[] }> {
    const results: Attribution[] = [];
    const summaries: MethodSummary[] = [];
    for (const method of this.methods) {
      const t0 = performance.now();
      const r = await runMethod(this.#explainer, method, input, this.#settings);
      results.push(r);
      const delta = maxAbs(r.delta);
      summaries.push({
        method,
        featureImportance: Array.from(r.featureImportance),
        seconds: (performance.now() - t0) / 1000,
        ...(delta !== undefined ? { maxAbsDelta: delta } : {}),
      });
    }
    return { results, summaries };
  }

  // Sensitivity re-explains every perturbed copy: on `windows` windows (default 4), with Integrated
  // Gradients at min(nSteps, 16) Gauss-Legendre steps (base and copies alike), it costs 4·10·16 gradient
  // rows rather than a whole buffer's worth per copy.
  async #sensitivity(input: ModelInput): Promise<number | undefined> {
    const o = this.#o.sensitivity;
    if (o === false) return undefined;
    const w = Math.min(input.batch, o?.windows ?? 4);
    const sub = firstWindows(input, w, this.#steps(input), this.model.config.nFeatures);
    const settings = { ...this.#settings, nSteps: o?.nSteps ?? Math.min(this.#o.nSteps ?? 50, 16) };
    const method = this.methods[0]!;
    const explain = (x: ModelInput) => runMethod(this.#explainer, method, x, settings);
    const r = await sensitivityMax(explain, sub, await explain(sub), { seed: this.#o.seed, ...o });
    return r.mean;
  }

  async #patterns(input: ModelInput): Promise<{ vsn: PatternStability; attention: PatternStability }> {
    const p = await this.model.predictBatch(input, { vsnWeights: true, attention: true });
    const T = this.#steps(input);
    const F = this.model.config.nFeatures;
    const vsnRows = vsnDistributions(p.vsnWeights!, input.batch, T, F);
    const attRows = attentionDistributions(p.attention!, input.batch, T);
    this.#vsnMeans.push(meanDistribution(vsnRows, F));
    this.#attentionMeans.push(meanDistribution(attRows, T));
    const over = (m: Float64Array[]) => {
      const v = consistencyOverTime(m.slice(-2));
      return v === undefined ? {} : { acrossAnalyses: v };
    };
    return {
      vsn: { acrossWindows: consistencyAcrossRows(vsnRows, F), ...over(this.#vsnMeans) },
      attention: { acrossWindows: consistencyAcrossRows(attRows, T), ...over(this.#attentionMeans) },
    };
  }

  /** Analyses a buffer of windows; `gradientFlow` is the trainer's last epoch's per-layer gradients. */
  async analyze(input: ModelInput, extra: { gradientFlow?: LayerGradient[] } = {}): Promise<AttributionAnalysis> {
    if (!input || input.batch < 1) throw new InvalidArgumentError('input: the analysis buffer is empty', 'input');
    const t0 = performance.now();
    const { results, summaries } = await this.#runMethods(input);
    const primary = results[0]!;
    const importance = primary.featureImportance;
    const consensus = results.length >= 2 ? await attributionConsensus(results, this.#o.consensus) : undefined;
    const inf =
      this.#o.infidelity === false
        ? undefined
        : (await infidelity(this.model, input, primary, { seed: this.#o.seed, ...this.#o.infidelity })).mean;
    const sens = await this.#sensitivity(input);
    const patterns = await this.#patterns(input);
    this.#dead.record(normalizedScores(importance), input.batch);
    const dead = this.#dead.report(this.#o.deadFeatures);
    const threshold = this.#o.sparsityThreshold ?? DEFAULT_SPARSITY_THRESHOLD;
    const quality = {
      sparsity: sparsity(importance, threshold),
      sparsityThreshold: threshold,
      concentration: concentration(importance),
      maxFeatureShare: Math.max(...importanceShares(importance)),
      ...(inf !== undefined ? { infidelity: inf } : {}),
      ...(sens !== undefined ? { sensitivity: sens } : {}),
    };
    const gradientFlow = extra.gradientFlow ? summarizeGradients(extra.gradientFlow) : undefined;
    const health = assessHealth(
      {
        consensus: consensus?.meanCorrelation,
        ...quality,
        deadFeatures: dead.sufficientHistory ? dead.count : undefined,
        gradientProblems: gradientFlow ? gradientFlow.vanishing.length + gradientFlow.exploding.length : undefined,
      },
      this.#o.thresholds ?? DEFAULT_HEALTH_THRESHOLDS,
    );
    return {
      windows: input.batch,
      primaryMethod: this.methods[0]!,
      methods: summaries,
      rankings: featureRankings(importance, this.featureNames, this.groups, this.#o.topN ?? 10),
      ...(consensus ? { consensus: { ...consensus, matrix: Array.from(consensus.matrix) } } : {}),
      quality,
      vsnStability: patterns.vsn,
      attentionStability: patterns.attention,
      deadFeatures: dead,
      ...(gradientFlow ? { gradientFlow } : {}),
      health,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** Dead features over the analyses so far (with other thresholds than the analyzer's, if given). */
  deadFeatures(o?: DeadFeatureOptions): DeadFeatureReport {
    return this.#dead.report(o ?? this.#o.deadFeatures);
  }

  /**
   * What differs between two decisions (e.g. before and after a trade): both single-window inputs are
   * explained with the method (default the primary one) and the features ranked by how much their
   * attribution, summed over the window, changed from a to b.
   */
  async compareDecisions(a: ModelInput, b: ModelInput, o: { method?: string; topK?: number } = {}): Promise<DecisionComparison> {
    if (a.batch !== 1 || b.batch !== 1)
      throw new InvalidArgumentError('compareDecisions: each input must be one window (batch 1)', 'batch');
    const method = o.method ? requireMethod(o.method) : this.methods[0]!;
    const ra = await runMethod(this.#explainer, method, a, this.#settings);
    const rb = await runMethod(this.#explainer, method, b, this.#settings);
    const ta = featureTotals(ra, 0);
    const tb = featureTotals(rb, 0);
    const features = this.featureNames
      .map((feature, f) => ({ feature, difference: tb[f]! - ta[f]!, a: ta[f]!, b: tb[f]! }))
      .sort((x, y) => Math.abs(y.difference) - Math.abs(x.difference))
      .slice(0, o.topK ?? this.featureNames.length);
    return { method, outputs: [ra.outputs[0]!, rb.outputs[0]!], features };
  }
}

function summarizeGradients(layers: LayerGradient[]): GradientFlow {
  return {
    layers,
    vanishing: layers.filter((l) => l.vanishing).map((l) => l.layer),
    exploding: layers.filter((l) => l.exploding).map((l) => l.layer),
  };
}

/** The first w windows of an input (with their ids and contexts). */
function firstWindows(input: ModelInput, w: number, steps: number, features: number): ModelInput {
  if (w === input.batch) return input;
  const out: ModelInput = { x: input.x.subarray(0, w * steps * features), batch: w, steps };
  if (input.entityIds) out.entityIds = Int32Array.from(input.entityIds).subarray(0, w);
  if (input.context && input.contextLen) {
    const per = input.context.length / input.batch;
    out.context = input.context.subarray(0, w * per);
    out.contextLen = input.contextLen;
    if (input.contextEntityIds) {
      const perIds = input.contextEntityIds.length / input.batch;
      out.contextEntityIds = Int32Array.from(input.contextEntityIds).subarray(0, w * perIds);
    }
  }
  return out;
}
