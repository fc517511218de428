export * from './audit-log.js';
export * from './checkpoint.js';
export * from './entry.js';
export * from './store.js';
export * from './verify.js';
export * from './jsonl/jsonl-audit-store.js';
export * from './mongo/mongo-audit-store.js';
export * from './export/exporters.js';
