/**
 * tft-native: a native (libtorch) Temporal Fusion Transformer / X-Trend for Node.js.
 * The public API, organised by capability.
 */
export * from './errors.js';
export {
  capabilities,
  setNumThreads,
  getNumThreads,
  measureSgemmGflops,
  cpuIsa,
  setCpuIsa,
  supportedCpuIsas,
  CPU_ISAS,
  type Capabilities,
  type CpuIsa,
} from './runtime.js';
export * from './rank/rank-correlation.js';
export * from './rank/momentum-stability.js';
export * from './data/index.js';
export type { FloatArray } from './native/addon-types.js';
export * from './model/index.js';
export * from './attribution/index.js';
export * from './inference/index.js';
export * from './strategy/index.js';
export * from './training/index.js';
export * from './checkpoint/index.js';
export * from './stability/index.js';
export * from './selection/index.js';
export * from './tuning/index.js';
// Path-safety helpers for names that become path components (what the checkpoint and snapshot stores use).
export { assertSafeName, resolveInside } from './io/safe-path.js';
export * from './defaults.js';
