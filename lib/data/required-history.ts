/** How much history a feature selection needs before its first complete row. */
import { InvalidArgumentError } from '../errors.js';
import type { FeatureBuilder } from './feature-builder.js';
import { maxLookback } from './feature-catalogue.js';

/**
 * Listed days in a row a symbol needs for the builder's features to be complete once: the longest lookback
 * + 1. Handed to MarketDataStore.panel as minHistory, so a short symbol is reported with its file and rows.
 * Undefined when the selection needs OHLCV columns the data lacks: FeatureBuilder.build then reports that.
 */
export function requiredHistory(builder: FeatureBuilder, hasOhlcv: boolean): number | undefined {
  try {
    return maxLookback(builder.specs(hasOhlcv)) + 1;
  } catch (e) {
    if (e instanceof InvalidArgumentError && e.argument === 'ohlcv') return undefined;
    throw e;
  }
}
