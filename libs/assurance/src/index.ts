export * from './config.js';
export * from './results.js';
export * from './checks.js';
export * from './drill.js';
export * from './standalone.js';
export * from './compliance.js';
export * from './mongo-drills.js';
