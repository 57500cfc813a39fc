#!/usr/bin/env node
// `npm run generate`: rewrites the files derived from the services' config schemas, after the build:
// each service's config.schema.json (JSON Schema of its DSM_CONFIG file, with x-env, x-runtime and
// x-secret-file per key) and the configuration table of its README (between <!-- config:start --> and
// <!-- config:end -->), compose/.env.example, the OpenAPI documents and the Grafana dashboards
// (dashboards/*.json). workloads/{core,storage,bridge}/test/config.test.ts, compose/test/env-example.test.ts,
// workloads/api/test/openapi.test.ts and workloads/dashboards/test/dashboards.test.ts fail when a committed
// copy is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const load = (file) => import(pathToFileURL(join(root, file)).href);
const { configTable, formatJson, replaceSection } = await load('workloads/runtime/dist/config.js');
const core = await load('workloads/core/dist/config.js');
const storage = await load('workloads/storage/dist/config.js');
const bridge = await load('workloads/bridge/dist/config.js');
// TypeScript that Node runs by stripping its types: it imports only built packages.
const envExample = await load('compose/env-example.ts');

const files = [
  ['workloads/core/config.schema.json', () => formatJson(core.coreConfigJsonSchema())],
  ['workloads/core/README.md', (old) => replaceSection(old, 'config', configTable(core.coreConfigSchema))],
  ['workloads/storage/config.schema.json', () => formatJson(storage.storageConfigJsonSchema())],
  [
    'workloads/storage/README.md',
    (old) => replaceSection(old, 'config', configTable(storage.storageConfigSchema)),
  ],
  ['workloads/bridge/config.schema.json', () => formatJson(bridge.bridgeConfigJsonSchema())],
  [
    'workloads/bridge/README.md',
    (old) => replaceSection(old, 'config', configTable(bridge.bridgeConfigSchema)),
  ],
  // Every variable of compose/docker-compose.yml (compose/test/env-example.test.ts checks it).
  [
    'compose/.env.example',
    () =>
      envExample.renderEnvExample({
        core: core.coreConfigSchema,
        storage: storage.storageConfigSchema,
        bridge: bridge.bridgeConfigSchema,
      }),
  ],
];

for (const [file, render] of files) {
  const path = join(root, file);
  let old = '';
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    // a new file
  }
  const text = render(old);
  if (text === old) continue;
  writeFileSync(path, text);
  console.log(`wrote ${file}`);
}

// The OpenAPI documents of @dsm/api (workloads/api/openapi/*.json; api/test/openapi.test.ts checks them).
await load('workloads/api/dist/generate.js');

// The Grafana dashboards of @dsm/dashboards (dashboards/*.json; workloads/dashboards/test/dashboards.test.ts
// checks them).
await load('workloads/dashboards/dist/generate.js');
