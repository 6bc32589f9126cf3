export * from './checkpoint-manager.js';
export * from './metadata.js';
export * from '../io/safe-path.js';
