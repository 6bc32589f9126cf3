export * from './config.js';
export * from './tft-model.js';
