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

/** The buffer: `samples` validation windows drawn with the seed, as one model input. */
export function validationBuffer(session: FoldSession, samples: number, seed: number): ModelInput {
  const chosen = session.validationWindows.sample(samples, seed);
  const T = session.window;
  const F = session.model.config.nFeatures;
  const days = session.days;
  const n = chosen.size;
  const x = new Float32Array(n * T * F);
  const ids = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const a = chosen.pairs[2 * k]!;
    const end = chosen.pairs[2 * k + 1]!;
    x.set(session.features.subarray((a * days + end - T + 1) * F, (a * days + end + 1) * F), k * T * F);
    ids[k] = session.entityIds ? session.entityIds[a]! : 0;
  }
  return { x, batch: n, ...(session.entityIds ? { entityIds: ids } : {}) };
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
