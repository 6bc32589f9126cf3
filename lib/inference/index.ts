export {
  TFTInferencePipeline,
  type BatchInferenceResult,
  type InferenceMetadata,
  type InferenceResult,
  type MissingPosition,
  type PipelineOptions,
} from './pipeline.js';
export { requiredLookback, resolveInputSpec, type InputSpec, type ResolvedInputSpec } from './input-spec.js';
export { confidenceOf, convictionOf, normalCdf, sizePositions, smoothingWarmup, type PositionSizing } from './position-sizing.js';
export { backtestCheckpoint, type BacktestMetrics, type CheckpointBacktest } from './checkpoint-backtest.js';
export { writePositions, writeTable, type PositionFormat, type PositionTable } from './export.js';
