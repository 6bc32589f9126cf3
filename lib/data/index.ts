/** The data layer: market data store, feature catalogue and builder, targets, normalisation, synthetic panels. */
export * from './price-panel.js';
export * from './market-data-store.js';
export * from './feature-catalogue.js';
export * from './feature-builder.js';
export { requiredHistory } from './required-history.js';
export * from './targets.js';
export * from './normalization.js';
export * from './synthetic.js';
export * from './synthetic-prices.js';
export { EWMA_TAIL_WEIGHT, ewmaWindow } from './rolling.js';
export { Xoshiro128 } from '../random/prng.js';
