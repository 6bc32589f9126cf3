export {
  AttributionAnalyzer,
  DEFAULT_ANALYSIS_METHODS,
  type AnalyzerOptions,
  type AttributionAnalysis,
  type DecisionComparison,
  type GradientFlow,
  type MethodSummary,
  type PatternStability,
} from './analyzer.js';
export { formatAnalysis, formatAnalysisLine } from './analysis-format.js';
export {
  DeadFeatureTracker,
  deadFeatureBand,
  type DeadFeatureOptions,
  type DeadFeatureReport,
  type DeadFeatureBand,
} from './dead-features.js';
export {
  assessHealth,
  DEFAULT_HEALTH_THRESHOLDS,
  healthThresholdsFrom,
  loadHealthThresholds,
  type HealthCheck,
  type HealthLevel,
  type HealthThresholds,
} from './health.js';
export {
  drawPerturbations,
  infidelity,
  infidelityFromPerturbations,
  type InfidelityOptions,
  type InfidelityPerturbation,
} from './infidelity.js';
export { concentration, DEFAULT_SPARSITY_THRESHOLD, importanceShares, normalizedScores, sparsity } from './quality.js';
export { featureRankings, type FeatureRankings, type GroupRanking, type RankedFeature } from './rankings.js';
export { maxRelativeChange, sensitivityMax, type SensitivityOptions } from './sensitivity.js';
export { consistencyAcrossRows, consistencyOverTime, totalVariation } from './weight-stability.js';
export { analyzeCheckpoint, type CheckpointAnalysis, type CheckpointAnalysisOptions } from './checkpoint-analysis.js';
