/**
 * Every metric a dashboard panel or an alert rule selects is one the services define, by the name they
 * define it with: the services' own metric modules are instantiated on a fresh registry (with prom-client's
 * default metrics, as createMetricsRegistry gives every service) and their names read, so a renamed metric
 * fails here. And every dsm_* metric a service defines is on a dashboard.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bridgeMetrics } from '@dsm/bridge/metrics';
import { coreMetrics } from '@dsm/core/metrics';
import { createOperatorMetrics } from '@dsm/operator/metrics';
import { PolicyCache, backendByName } from '@dsm/protocol';
import { backupMetrics, createMetricsRegistry, httpRequestDuration, type Registry } from '@dsm/runtime';
import { Directory } from '@dsm/storage';
import { storageMetrics } from '@dsm/storage/metrics';
import { openTempStore, type TempStore } from '@dsm/testkit';
import {
  DASHBOARDS,
  allRules,
  dashboardQueries,
  expandQuery,
  readPromql,
  variableValues,
} from '@dsm/dashboards';

/** Series Prometheus makes itself for every target. */
const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

let temp: TempStore;
let registry: Registry;

beforeAll(async () => {
  registry = createMetricsRegistry();
  coreMetrics(registry, new PolicyCache({ now: Date.now }));
  temp = await openTempStore('dsm-dashboards-');
  const directory = await Directory.open(temp.store, {
    backend: backendByName('default'),
    maxObjectBytes: 262_144,
  });
  // Names are read without collecting, so the gauges' sources are never asked.
  storageMetrics(registry, directory, () => {
    throw new Error('the storage gauges are not collected here');
  });
  bridgeMetrics(registry, {
    pending: () => ({ deposits: 0, withdrawals: 0 }),
    lag: () => null,
    lastProcessedBlock: () => null,
    gaps: () => [],
    halted: () => false,
    up: () => ({ evm: true, dsm: true }),
  });
  createOperatorMetrics(registry);
  httpRequestDuration(registry);
  // Every service serving backups (storage archives, core and bridge snapshots) has these.
  backupMetrics(registry);
});

afterAll(async () => {
  await temp?.close();
});

/** The series names each metric is exposed as (a histogram as _bucket, _sum and _count). */
function exposedNames(): Map<string, string> {
  const names = new Map<string, string>();
  for (const metric of registry.getMetricsAsArray()) {
    // prom-client sets `type` to 'counter', 'histogram', ... (its typings declare a numeric enum).
    const type = String(metric.type);
    const suffixes =
      type === 'histogram'
        ? ['_bucket', '_sum', '_count']
        : type === 'summary'
          ? ['', '_sum', '_count']
          : [''];
    for (const suffix of suffixes) names.set(`${metric.name}${suffix}`, metric.name);
  }
  for (const name of SCRAPE_SERIES) names.set(name, name);
  return names;
}

function panelMetrics(): { where: string; metric: string }[] {
  return Object.entries(DASHBOARDS).flatMap(([file, build]) => {
    const dashboard = build();
    return dashboardQueries(dashboard).flatMap((q) =>
      readPromql(expandQuery(q.expr, variableValues(dashboard), '1m')).metrics.map((metric) => ({
        where: `${file} "${q.panel}" ${q.refId}`,
        metric,
      })),
    );
  });
}

describe('metric names', () => {
  it('the services define what the dashboards query', () => {
    const names = exposedNames();
    const missing = panelMetrics().filter(({ metric }) => !names.has(metric));
    expect(missing).toEqual([]);
  });

  it('the services define what the alert rules select', () => {
    const names = exposedNames();
    const selected = allRules().flatMap((rule) =>
      readPromql(rule.expr).metrics.map((metric) => ({
        where: `${rule.file} ${rule.alert ?? rule.record}`,
        metric,
      })),
    );
    expect(selected.length).toBeGreaterThan(15);
    expect(selected.filter(({ metric }) => !names.has(metric))).toEqual([]);
  });

  it('every dsm_* metric a service defines is on a dashboard (add a panel for a new one)', () => {
    const names = exposedNames();
    const charted = new Set(panelMetrics().map(({ metric }) => names.get(metric)));
    const defined = registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((name) => name.startsWith('dsm_'));
    expect(defined.length).toBeGreaterThan(25);
    expect(defined.filter((name) => !charted.has(name))).toEqual([]);
  });
});
