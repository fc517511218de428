export * from './config.js';
export * from './sftp.store.js';
