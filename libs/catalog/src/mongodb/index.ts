export * from './config.js';
export * from './mongo.catalog.js';
export * from './mongo.jobs.js';
export * from './connect.js';
export * from './mongo.schedules.js';
export * from './unreachable.js';
