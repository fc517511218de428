export * from './config.js';
export * from './s3.store.js';
