export * from './types.js';
export { Explainer } from './explainer.js';
export { featureImportance, stepImportance, rankFeatures } from './summary.js';
export { EXPLAIN_METHODS, METHOD_ALIASES, requireMethod, runMethod, type ExplainMethod, type MethodSettings } from './run-method.js';
export { explainCheckpoint, type CheckpointExplanation, type CheckpointExplanationOptions } from './checkpoint-explanation.js';
export { attributionConsensus, type AttributionConsensus, type ConsensusOptions } from './consensus.js';
export * from './analysis/index.js';
