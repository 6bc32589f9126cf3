/**
 * How far a walk-forward run has got, counted in training steps over every fold, and how long the rest
 * should take at the pace so far: what a progress display shows as the run's ETA.
 *
 * The total is an estimate that firms up as the run goes: a fold's steps per epoch follow from its
 * training windows (known when the fold starts; folds not started yet are assumed to match the latest), and
 * an early stop takes the phase's remaining epochs off. So the ETA is an upper bound early on, and the pace
 * (wall time since the first fold started per step done) includes validation and out-of-sample prediction.
 */
import type { TrainingConfig } from './config.js';
import type { TrainingEvent } from './walk-forward-events.js';

export class TrainingProgress {
  readonly #tc: TrainingConfig['training'];
  readonly #now: () => number;
  #foldsLeft = 0;
  #stepsPerEpoch = 0;
  #phaseEpochs = 0;
  #epochsLeftInFold = 0;
  /** Steps of finished epochs, and of the epoch under way. */
  #finished = 0;
  #current = 0;
  #startedAt: number | undefined;
  /** Progress updates arrive asynchronously: one of an epoch already counted may come after its 'epoch' event. */
  #lastEpoch = '';

  /** `now` in milliseconds (performance.now by default). */
  constructor(training: TrainingConfig['training'], now: () => number = () => performance.now()) {
    this.#tc = training;
    this.#now = now;
  }

  update(e: TrainingEvent): void {
    switch (e.type) {
      case 'plan':
        this.#foldsLeft = e.folds.length;
        break;
      case 'fold-start': {
        this.#startedAt ??= this.#now();
        this.#foldsLeft--;
        this.#stepsPerEpoch = Math.ceil(e.epochWindows / this.#tc.batchSize);
        this.#epochsLeftInFold = this.#epochsPerFold();
        break;
      }
      case 'phase-start':
        this.#phaseEpochs = e.epochs;
        break;
      case 'step':
        if (epochKey(e) !== this.#lastEpoch) this.#current = e.progress.step;
        break;
      case 'epoch':
        this.#lastEpoch = epochKey(e);
        this.#finished += e.train.steps;
        this.#current = 0;
        this.#epochsLeftInFold--;
        break;
      case 'early-stop':
        this.#epochsLeftInFold -= this.#phaseEpochs - (e.epoch + 1);
        break;
    }
  }

  get stepsDone(): number {
    return this.#finished + this.#current;
  }

  /** Every step of the run as now expected (an upper bound: early stops are not foreseen). */
  get stepsTotal(): number {
    return this.#finished + (this.#epochsLeftInFold + this.#foldsLeft * this.#epochsPerFold()) * this.#stepsPerEpoch;
  }

  /** Seconds left at the pace so far; undefined before the first step is done. */
  etaSeconds(): number | undefined {
    const done = this.stepsDone;
    if (this.#startedAt === undefined || done === 0) return undefined;
    const perStep = (this.#now() - this.#startedAt) / 1000 / done;
    return Math.max(0, this.stepsTotal - done) * perStep;
  }

  #epochsPerFold(): number {
    return this.#tc.pretrainEpochs + this.#tc.finetuneEpochs;
  }
}

const epochKey = (e: { fold: number; phase: string; epoch: number }) => `${e.fold}/${e.phase}/${e.epoch}`;
