export type * from './catalog.js';
export * from './entry-filter.js';
export * from './sqlite/sqlite.catalog.js';
export * from './mongodb/index.js';
