export * from './config.js';
export * from './local.store.js';
