// @dsm/dashboards: DSM's Grafana dashboards as code. `npm run generate` writes them to the top-level
// dashboards/ folder (test/dashboards.test.ts fails when a committed file is stale).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { bridgeDashboard } from './bridge.js';
import { operatorDashboard } from './operator.js';
import { overviewDashboard } from './overview.js';
import { storageDashboard } from './storage.js';

export * from './promql.js';
export * from './queries.js';
export * from './rules.js';
export { DATASOURCE } from './panels.js';

/** Every dashboard and the file it is written to. */
export const DASHBOARDS: Record<string, () => Dashboard> = {
  'dsm-overview.json': overviewDashboard,
  'dsm-storage.json': storageDashboard,
  'dsm-bridge.json': bridgeDashboard,
  'dsm-operator.json': operatorDashboard,
};

/** A dashboard file's text: the JSON Grafana's file provisioning reads, two-space indented. */
export const dashboardText = (dashboard: Dashboard): string => `${JSON.stringify(dashboard, null, 2)}\n`;

export { bridgeDashboard, operatorDashboard, overviewDashboard, storageDashboard };
