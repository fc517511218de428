export * from './tresor-error.js';
export * from './redact.js';
export * from './config-issue.js';
