#!/usr/bin/env node
/** dsm-core: starts a core node from its configuration; exits 2 naming a bad key. */
import { GracefulShutdown } from '@dsm/runtime';
import { loadCoreConfig } from './config.js';
import { startCoreNode } from './node.js';

let config;
try {
  config = loadCoreConfig();
} catch (e) {
  console.error(`dsm-core: ${(e as Error).message}`);
  process.exit(2);
}
let node;
try {
  node = await startCoreNode(config);
} catch (e) {
  console.error(`dsm-core: ${(e as Error).message}`);
  process.exit(1);
}
const shutdown = new GracefulShutdown({ logger: node.logger });
shutdown.register('core node', () => node.close());
shutdown.listen();
