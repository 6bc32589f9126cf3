export * from './config.js';
export * from './tft-model.js';
export * from './flops.js';
export * from './context-sampler.js';
