export * from './types.js';
export { Explainer } from './explainer.js';
export { featureImportance, stepImportance, rankFeatures } from './summary.js';
export {
  explainCheckpoint,
  EXPLAIN_METHODS,
  type ExplainMethod,
  type CheckpointExplanation,
  type CheckpointExplanationOptions,
} from './checkpoint-explanation.js';
export { attributionConsensus, type AttributionConsensus, type ConsensusOptions } from './consensus.js';
