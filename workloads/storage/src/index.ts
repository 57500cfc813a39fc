export * from './config.js';
export * from './digest.js';
export * from './directory.js';
export * from './keys.js';
export * from './peers.js';
export * from './replicator.js';
export * from './node.js';
