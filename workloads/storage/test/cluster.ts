export * from '../src/bench/cluster.js';
