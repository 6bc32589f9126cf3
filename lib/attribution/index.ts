export * from './types.js';
export { Explainer } from './explainer.js';
export { featureImportance, stepImportance, rankFeatures } from './summary.js';
