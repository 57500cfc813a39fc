#!/usr/bin/env node
/** dsm-storage: starts a storage node from its configuration; exits non-zero naming a bad key. */
import { GracefulShutdown } from '@dsm/runtime';
import { loadStorageConfig } from './config.js';
import { startStorageNode } from './node.js';

let config;
try {
  config = loadStorageConfig();
} catch (e) {
  console.error(`dsm-storage: ${(e as Error).message}`);
  process.exit(2);
}
const node = await startStorageNode(config);
const shutdown = new GracefulShutdown({ logger: node.logger });
shutdown.register('storage node', () => node.close());
shutdown.listen();
