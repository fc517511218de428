export * from './config.js';
export * from './azure.store.js';
