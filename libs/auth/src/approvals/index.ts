export * from './policy.js';
export * from './store.js';
