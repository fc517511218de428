export * from './replicated.store.js';
export * from './sync.js';
export * from './grace.js';
