export * from './buckets.js';
export * from './duration.js';
export * from './policy.js';
export * from './select.js';
