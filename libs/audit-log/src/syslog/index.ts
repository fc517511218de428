export * from './rfc5424.js';
export * from './sender.js';
