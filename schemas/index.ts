export * from './backup.js';
export * from './common.js';
export * from './config.js';
export * from './messages.js';
export * from './topics.js';
export * from './trust.js';
export * from './validate.js';
