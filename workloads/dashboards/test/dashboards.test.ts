/**
 * The dashboards in the top-level dashboards/ folder are what the code writes (`npm run generate`), every
 * panel reads the provisioned datasource, every query is PromQL Prometheus parses, and DSM Overview has
 * the panels the deployment guide's users know.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  DASHBOARDS,
  DATASOURCE,
  REPO_ROOT,
  dashboardQueries,
  dashboardText,
  expandQuery,
  readPromql,
  variableValues,
} from '@dsm/dashboards';

const dir = join(REPO_ROOT, 'dashboards');
const built = Object.entries(DASHBOARDS).map(([file, build]) => ({ file, dashboard: build() }));

describe('dashboards/', () => {
  it.each(built.map((b): [string, (typeof built)[number]] => [b.file, b]))(
    '%s is fresh (npm run generate rewrites it)',
    (_file, { file, dashboard }) => {
      expect(readFileSync(join(dir, file), 'utf8')).toBe(dashboardText(dashboard));
    },
  );

  it('holds only generated dashboards', () => {
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(Object.keys(DASHBOARDS).sort());
  });

  it('uses no field override (the only change of schema version 42 over the 41 written)', () => {
    for (const { dashboard } of built) {
      expect(dashboard.schemaVersion).toBe(41);
      for (const panel of dashboard.panels ?? [])
        expect((panel as { fieldConfig?: { overrides?: unknown[] } }).fieldConfig?.overrides ?? []).toEqual(
          [],
        );
    }
  });

  it('gives every dashboard its own uid and title, tagged dsm', () => {
    const uids = built.map((b) => b.dashboard.uid);
    expect(new Set(uids).size).toBe(built.length);
    expect(new Set(built.map((b) => b.dashboard.title)).size).toBe(built.length);
    for (const { dashboard } of built) expect(dashboard.tags).toContain('dsm');
  });

  it('reads the datasource the provisioning file declares', () => {
    const provisioning = parse(
      readFileSync(join(REPO_ROOT, 'compose/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    ) as { datasources: { uid: string; type: string; url: string }[] };
    expect(provisioning.datasources).toEqual([
      expect.objectContaining({ uid: DATASOURCE.uid, type: DATASOURCE.type, url: 'http://prometheus:9090' }),
    ]);
    for (const { dashboard } of built) {
      for (const panel of dashboard.panels ?? []) {
        if (panel.type === 'row') continue;
        expect(panel.datasource).toEqual(DATASOURCE);
        for (const target of (panel as { targets?: { datasource?: unknown }[] }).targets ?? [])
          expect(target.datasource).toEqual(DATASOURCE);
      }
    }
  });

  it('numbers panels uniquely, lays them out without overlap, and describes each', () => {
    for (const { file, dashboard } of built) {
      const panels = dashboard.panels ?? [];
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      const cells = new Set<string>();
      for (const panel of panels) {
        const { x, y, w, h } = panel.gridPos!;
        expect(x + w).toBeLessThanOrEqual(24);
        for (let i = x; i < x + w; i++)
          for (let j = y; j < y + h; j++) {
            const cell = `${i},${j}`;
            if (cells.has(cell)) throw new Error(`${file}: ${panel.title} overlaps another panel at ${cell}`);
            cells.add(cell);
          }
        if (panel.type !== 'row') expect((panel as { description?: string }).description).toBeTruthy();
      }
    }
  });

  it('has only queries that parse as PromQL once the variables are what Grafana sends', () => {
    const queries = built.flatMap(({ dashboard }) =>
      dashboardQueries(dashboard).map((q) => ({
        ...q,
        sent: expandQuery(q.expr, variableValues(dashboard), '1m'),
      })),
    );
    expect(queries.length).toBeGreaterThan(40);
    for (const query of queries) {
      const reading = readPromql(query.sent);
      expect({ ...query, errors: reading.errors, unnamed: reading.unnamed }).toEqual({
        ...query,
        errors: [],
        unnamed: [],
      });
      expect(reading.metrics.length).toBeGreaterThan(0);
    }
  });

  it('DSM Overview has the panels users know', () => {
    const overview = built.find((b) => b.dashboard.uid === 'dsm-overview')!.dashboard;
    expect((overview.panels ?? []).map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'State transitions rate',
        'Verification duration',
        'Policy verification success ratio',
        'Total tokens',
        'Policy cache size',
        'Policy cache hit ratio',
        'Memory',
        'CPU',
        'Policy verification rate',
        'Token operation rate',
      ]),
    );
  });
});
