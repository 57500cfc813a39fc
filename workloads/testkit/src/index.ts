export * from './storage.js';
export * from './network.js';
export * from './wallet.js';
export * from './process.js';
export * from './backend.js';
export * from './signer.js';
export * from './report.js';
export * from './temp-store.js';
