export * from './config.js';
export * from './keystore.js';
export * from './storage-client.js';
export * from './world.js';
export * from './chains.js';
export * from './export.js';
export * from './node.js';
