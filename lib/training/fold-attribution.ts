/**
 * Attribution analysis while a fold trains (the training config's `attribution` section): every
 * `everyEpochs` epochs an AttributionAnalyzer analyses a fixed, seeded buffer of the fold's validation
 * windows, with the epoch's per-layer gradients as its gradient flow. The analyzer lives for the fold, so
 * dead features and pattern consistency build up over its analyses. Analyses stop once `budgetSeconds` is
 * spent (the fold's training is never slowed further than that).
 */
import { AttributionAnalyzer, type AttributionAnalysis } from '../attribution/analysis/analyzer.js';
import type { ModelInput } from '../model/tft-model.js';
import { mixSeed } from '../random/index.js';
import type { TrainingConfig } from './config.js';
import type { FoldSession } from './fold-session.js';
import type { LayerGradient } from './trainer.js';
import type { Phase } from './walk-forward-events.js';

export type AttributionTrainingConfig = TrainingConfig['attribution'];

export interface EpochAnalysis {
  phase: Phase;
  epoch: number;
  analysis: AttributionAnalysis;
}

/**
 * The buffer: `samples` validation windows drawn with the seed, as one model input. An X-Trend model's
 * windows each get the trainer's own context set for them (`Trainer.sampleContext` from the window's first
 * day, keyed by its last day): sequences that end before the window starts, as in training.
 */
export function validationBuffer(session: FoldSession, samples: number, seed: number): ModelInput {
  const chosen = session.validationWindows.sample(samples, seed);
  const T = session.window;
  const F = session.model.config.nFeatures;
  const n = chosen.size;
  const x = new Float32Array(n * T * F);
  const ids = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const a = chosen.pairs[2 * k]!;
    x.set(sequence(session, a, chosen.pairs[2 * k + 1]!, T), k * T * F);
    ids[k] = session.entityIds ? session.entityIds[a]! : 0;
  }
  const input: ModelInput = { x, batch: n, ...(session.entityIds ? { entityIds: ids } : {}) };
  return session.model.config.nContext > 0 ? { ...input, ...contextSets(session, chosen.pairs, n) } : input;
}

/** Features of asset a over the `len` days ending on `end`. */
function sequence(session: FoldSession, a: number, end: number, len: number): Float32Array {
  const F = session.model.config.nFeatures;
  return session.features.subarray((a * session.days + end - len + 1) * F, (a * session.days + end + 1) * F);
}

function contextSets(session: FoldSession, pairs: Int32Array, n: number): Pick<ModelInput, 'context' | 'contextLen' | 'contextEntityIds'> {
  const C = session.model.config.nContext;
  const L = session.trainer.contextLength;
  const F = session.model.config.nFeatures;
  const context = new Float32Array(n * C * L * F);
  const contextIds = new Int32Array(n * C);
  for (let k = 0; k < n; k++) {
    const end = pairs[2 * k + 1]!;
    const set = session.trainer.sampleContext(end - session.window + 1, end);
    for (let j = 0; j < C; j++) {
      const ca = set.pairs[2 * j]!;
      context.set(sequence(session, ca, set.pairs[2 * j + 1]!, L), (k * C + j) * L * F);
      contextIds[k * C + j] = session.entityIds ? session.entityIds[ca]! : 0;
    }
  }
  return { context, contextLen: L, ...(session.entityIds ? { contextEntityIds: contextIds } : {}) };
}

export class FoldAttribution {
  readonly analyses: EpochAnalysis[] = [];
  readonly #analyzer: AttributionAnalyzer;
  readonly #buffer: ModelInput;
  readonly #every: number;
  readonly #budget: number;
  #spent = 0;

  constructor(session: FoldSession, cfg: AttributionTrainingConfig, featureNames: readonly string[], seed: number) {
    this.#every = cfg.everyEpochs;
    this.#budget = cfg.budgetSeconds;
    const s = mixSeed(seed, session.fold.index, 0x41545452);
    this.#buffer = validationBuffer(session, cfg.samples, s);
    this.#analyzer = new AttributionAnalyzer(session.model, {
      featureNames,
      methods: cfg.methods,
      nSteps: cfg.steps,
      nSamples: cfg.gradientShapSamples,
      seed: s,
      deadFeatures: { minWindows: cfg.deadFeatureWindows },
    });
  }

  /** Whether the epoch with this running number (0-based over both phases) is analysed. */
  due(epochNumber: number): boolean {
    return this.#every > 0 && this.#buffer.batch > 0 && (epochNumber + 1) % this.#every === 0 && this.#spent < this.#budget;
  }

  async analyze(phase: Phase, epoch: number, gradients: LayerGradient[]): Promise<EpochAnalysis> {
    const a = await this.#analyzer.analyze(this.#buffer, { gradientFlow: gradients });
    this.#spent += a.seconds;
    const e = { phase, epoch, analysis: a };
    this.analyses.push(e);
    return e;
  }

  get budgetExhausted(): boolean {
    return this.#spent >= this.#budget;
  }
}
