/**
 * The strategy protocol: anything that, given a date and a price store, emits trading signals. A Signal is
 * a superset of what QuantConnect Lean's `Insight` (direction, magnitude, confidence, weight, period,
 * source model) and nautilus_trader's signal data (a named value with event and init timestamps) carry,
 * so it maps onto both (toLeanInsight, toNautilusSignal).
 */
import type { MarketDataStore } from '../data/market-data-store.js';

export type Direction = 'long' | 'short' | 'flat';

export interface Signal {
  symbol: string;
  /** The trading day the signal is for (YYYY-MM-DD): it uses prices up to this day's close. */
  date: string;
  direction: Direction;
  /** The position to hold, after sizing (Lean's weight). */
  targetPosition: number;
  /** The model's position before sizing. */
  rawPosition: number;
  /** In [0, 1]. */
  confidence: number;
  /** The predicted next-period return, when the model has a trained Gaussian head (Lean's magnitude). */
  expectedReturn: number | null;
  /** How long the signal is meant to hold, in trading days (Lean's period). */
  horizonDays: number;
  strategyId: string;
  modelType: string;
  checkpointVersion: number;
  /** ISO timestamp of when the signal was made. */
  createdAt: string;
}

export interface Strategy {
  readonly id: string;
  /** A sentence for logs and registries. */
  describe(): string;
  scan(date: string, store: MarketDataStore): Promise<Signal[]>;
  dispose?(): void;
}

/** Lean's Insight fields (Insight.Price(symbol, period, direction, magnitude, confidence, sourceModel, weight)). */
export interface LeanInsight {
  Symbol: string;
  Type: 'Price';
  Direction: 'Up' | 'Down' | 'Flat';
  Period: string;
  Magnitude: number | null;
  Confidence: number;
  Weight: number;
  SourceModel: string;
  GeneratedTimeUtc: string;
  Tag: string;
}

export function toLeanInsight(s: Signal): LeanInsight {
  return {
    Symbol: s.symbol,
    Type: 'Price',
    Direction: s.direction === 'long' ? 'Up' : s.direction === 'short' ? 'Down' : 'Flat',
    Period: `${s.horizonDays}.00:00:00`,
    Magnitude: s.expectedReturn,
    Confidence: s.confidence,
    Weight: s.targetPosition,
    SourceModel: s.strategyId,
    GeneratedTimeUtc: s.createdAt,
    Tag: `${s.modelType} v${s.checkpointVersion} ${s.date}`,
  };
}

/** A nautilus_trader custom signal: `SignalData(name, value, ts_event, ts_init)` in nanoseconds. */
export interface NautilusSignal {
  name: string;
  value: number;
  ts_event: bigint;
  ts_init: bigint;
}

export function toNautilusSignal(s: Signal): NautilusSignal {
  const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
  return { name: `${s.strategyId}.${s.symbol}`, value: s.targetPosition, ts_event: ns(`${s.date}T00:00:00Z`), ts_init: ns(s.createdAt) };
}
