export * from './bootstrap.js';
export * from './cluster-repository.js';
export * from './config.js';
export * from './health.js';
export * from './jobs.js';
export * from './audit.js';
export * from './metrics.js';
export * from './tracing.js';
