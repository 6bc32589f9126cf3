export { BASELINES, baselinePositions, type BaselineName } from './baselines.js';
export {
  toLeanInsight,
  toNautilusSignal,
  type Direction,
  type LeanInsight,
  type NautilusSignal,
  type Signal,
  type Strategy,
} from './protocol.js';
export { createStrategy, registerStrategyKind, StrategyRegistry, type StrategyOptions } from './registry.js';
export { writeSignals } from './signal-export.js';
export { TFTStrategy, type TFTStrategyOptions } from './tft-strategy.js';
