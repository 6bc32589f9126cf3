export * from './checkpoint-manager.js';
export * from './metadata.js';
export * from './safe-name.js';
