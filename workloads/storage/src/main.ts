#!/usr/bin/env node
/** dsm-storage: starts a storage node from its configuration; exits 2 naming a bad key. */
import { runService } from '@dsm/runtime';
import { loadStorageConfig } from './config.js';
import { startStorageNode } from './node.js';

await runService('dsm-storage', loadStorageConfig, startStorageNode);
