/** Feature selection: Tier 1 pre-filters, VSN stability (Tier 2), MI and permutation checks, the FeatureSelector. */
export * from './config.js';
export * from './statistics.js';
export * from './training-rows.js';
export * from './prefilter.js';
export * from './vsn-stability.js';
export * from './rank-agreement.js';
export * from './permutation-importance.js';
export * from './feature-selector.js';
export * from './run-selection.js';
export { subsetFeatures } from '../data/feature-subset.js';
export * from './training-selection.js';
export * from './selection-format.js';
