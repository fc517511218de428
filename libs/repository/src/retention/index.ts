export * from './buckets.js';
export * from './duration.js';
export * from './policy.js';
export * from './select.js';
export * from './forget.service.js';
export * from './object-locks.js';
