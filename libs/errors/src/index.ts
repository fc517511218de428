export * from './tresor-error.js';
export * from './redact.js';
