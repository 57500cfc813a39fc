#!/usr/bin/env node
/** dsm-bridge: starts the bridge from its configuration; exits 2 naming a bad key. */
import { runService } from '@dsm/runtime';
import { loadBridgeConfig } from './config.js';
import { startBridgeNode } from './node.js';

await runService('dsm-bridge', loadBridgeConfig, startBridgeNode);
