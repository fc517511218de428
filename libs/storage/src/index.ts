export type * from './object-store.js';
export * from './arguments.js';
export * from './keys.js';
export * from './random-access.js';
export * from './local/index.js';
