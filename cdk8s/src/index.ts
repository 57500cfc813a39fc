export * from './api/cluster.js';
export * from './api/names.js';
export * from './api/spec.js';
export * from './api/status.js';
