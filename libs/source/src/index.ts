export * from './source.js';
export * from './filesystem/filesystem.source.js';
export { BatchPool } from './filesystem/batch-pool.js';
