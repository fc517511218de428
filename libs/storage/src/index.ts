export type * from './object-store.js';
export * from './arguments.js';
export * from './keys.js';
export * from './random-access.js';
export * from './local/index.js';
export * from './location.js';
export * from './wrappers/replicated/index.js';
export * from './wrappers/throttle/index.js';
export * from './health.js';
