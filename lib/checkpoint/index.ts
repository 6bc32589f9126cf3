export * from './checkpoint-manager.js';
export * from './metadata.js';
