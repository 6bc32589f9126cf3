/**
 * Strategies by kind and by id: `createStrategy({ kind: 'tft', ... })` builds one from options (a config
 * file's entry), a StrategyRegistry holds many and finds them by id.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Strategy } from './protocol.js';
import { TFTStrategy, type TFTStrategyOptions } from './tft-strategy.js';

export type StrategyOptions = { kind: 'tft' } & TFTStrategyOptions;

type Factory = (o: Record<string, unknown>) => Strategy;

const FACTORIES = new Map<string, Factory>([['tft', (o) => new TFTStrategy(o as TFTStrategyOptions)]]);

/** Registers a new kind of strategy for createStrategy (e.g. a rule-based one of the caller's). */
export function registerStrategyKind(kind: string, factory: Factory): void {
  if (FACTORIES.has(kind)) throw new InvalidArgumentError(`kind: '${kind}' is already registered`, 'kind');
  FACTORIES.set(kind, factory);
}

export function createStrategy(o: StrategyOptions | ({ kind: string } & Record<string, unknown>)): Strategy {
  const f = FACTORIES.get(o.kind);
  if (!f) throw new NotFoundError(`kind: unknown strategy kind '${o.kind}' (known: ${[...FACTORIES.keys()].join(', ')})`, 'kind');
  const { kind: _kind, ...rest } = o;
  return f(rest);
}

export class StrategyRegistry {
  readonly #all: Strategy[] = [];

  add(s: Strategy): this {
    this.#all.push(s);
    return this;
  }

  /** The strategy with this id (ids of TFT strategies settle once their checkpoint is loaded). */
  get(id: string): Strategy {
    const s = this.#all.find((x) => x.id === id);
    if (!s) throw new NotFoundError(`strategy: no strategy with id '${id}' (have: ${this.ids().join(', ') || 'none'})`, 'id');
    return s;
  }

  ids(): string[] {
    return this.#all.map((s) => s.id);
  }

  list(): readonly Strategy[] {
    return this.#all;
  }

  dispose(): void {
    for (const s of this.#all) s.dispose?.();
  }
}
