export * from './backtest.js';
export * from './config.js';
export * from './folds.js';
export * from './trainer.js';
export * from './walk-forward.js';
export * from './checkpoint.js';
export * from './oos-baselines.js';
export * from './validation-noise.js';
