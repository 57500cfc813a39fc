/**
 * Writes the dashboards to the top-level dashboards/ folder (`npm run generate`, or
 * `npm run generate -w @dsm/dashboards` after a build) and removes the JSON files no dashboard writes any more.
 * test/dashboards.test.ts fails when a committed file differs from what this writes.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DASHBOARDS, dashboardText } from './index.js';

export const DASHBOARDS_DIR = join(import.meta.dirname, '..', '..', '..', 'dashboards');

mkdirSync(DASHBOARDS_DIR, { recursive: true });
for (const [file, build] of Object.entries(DASHBOARDS)) {
  const path = join(DASHBOARDS_DIR, file);
  const text = dashboardText(build());
  let old = '';
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    // a new dashboard
  }
  if (text === old) continue;
  writeFileSync(path, text);
  console.log(`wrote ${relative(process.cwd(), path)}`);
}
for (const file of readdirSync(DASHBOARDS_DIR)) {
  if (file.endsWith('.json') && !(file in DASHBOARDS)) {
    rmSync(join(DASHBOARDS_DIR, file));
    console.log(`removed ${relative(process.cwd(), join(DASHBOARDS_DIR, file))}`);
  }
}
