export * from './limited.store.js';
export * from './throttled.store.js';
