export * from './analysis.js';
export * from './config.js';
export * from './hooks.js';
export * from './metrics.js';
export * from './report-format.js';
export * from './snapshot.js';
export * from './snapshot-store.js';
