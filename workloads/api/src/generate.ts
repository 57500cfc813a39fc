/**
 * Writes the OpenAPI documents under `workloads/api/openapi/` (`npm run generate -w @dsm/api`);
 * `test/openapi.test.ts` fails when a committed one differs from what this would write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { documentText, serviceDocuments } from './openapi.js';
import { VERSION } from './version.js';

export const OPENAPI_DIR = join(import.meta.dirname, '..', 'openapi');

mkdirSync(OPENAPI_DIR, { recursive: true });
for (const [file, document] of Object.entries(serviceDocuments(VERSION)))
  writeFileSync(join(OPENAPI_DIR, file), documentText(document));
