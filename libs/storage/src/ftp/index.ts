export * from './config.js';
export * from './ftp.store.js';
