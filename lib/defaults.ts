/**
 * Defaults that more than one schema or entry point offers (the training config, the target builder, the
 * stability config, the analysis API and the CLI): one constant each, so every place that documents or
 * applies a default agrees with the others.
 */

/** Span (trading days) of the EWMA volatility of daily returns that scales targets and returns, as X-Trend. */
export const DEFAULT_VOL_SPAN = 60;

/** Annualised volatility target σ_tgt of the volatility-scaled return. */
export const DEFAULT_SIGMA_TARGET = 0.15;

/** Size of the top sets the stability metrics compare (top-k overlap, selection frequency, Nogueira, RBO's p). */
export const DEFAULT_TOP_K = 20;

/**
 * Trading days before an X-Trend window in which serving and `explain` draw its context sequences: a year of
 * every asset's history is what the model saw as context in training's later folds, and bounds the read.
 */
export const DEFAULT_CONTEXT_POOL_DAYS = 252;
