#!/usr/bin/env node
/** dsm-core: starts a core node from its configuration; exits 2 naming a bad key. */
import { runService } from '@dsm/runtime';
import { loadCoreConfig } from './config.js';
import { startCoreNode } from './node.js';

await runService('dsm-core', loadCoreConfig, startCoreNode);
