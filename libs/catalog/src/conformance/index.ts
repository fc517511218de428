export * from './catalog.conformance.js';
