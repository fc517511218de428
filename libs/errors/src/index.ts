export * from './tresor-error.js';
