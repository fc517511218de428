export * from './traced.store.js';
