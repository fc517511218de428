export * from './object-store.conformance.js';
export * from './stream-helpers.js';
