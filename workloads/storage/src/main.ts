#!/usr/bin/env node
/** dsm-storage: starts a storage node from its configuration; exits non-zero naming a bad key. */
import { ConfigError, GracefulShutdown } from '@dsm/runtime';
import { loadStorageConfig } from './config.js';
import { startStorageNode } from './node.js';

let node;
try {
  node = await startStorageNode(loadStorageConfig());
} catch (e) {
  // A bad key (including an unreadable token file) exits 2 naming it; anything else is a crash.
  if (!(e instanceof ConfigError)) throw e;
  console.error(`dsm-storage: ${e.message}`);
  process.exit(2);
}
const shutdown = new GracefulShutdown({ logger: node.logger });
shutdown.register('storage node', () => node.close());
shutdown.listen();
