export * from './source.js';
export * from './filesystem/filesystem.source.js';
