export * from '../src/bench/wallet.js';
