export * from './config.js';
export * from './gcs.store.js';
