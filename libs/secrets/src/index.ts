export * from './secret-ref.js';
