#!/usr/bin/env node
// Checks a running Prometheus (the compose stack's, or any that scrapes the DSM services with the jobs of
// compose/prometheus/prometheus.yml): every dashboard query returns at least one series, every rule
// expression evaluates, and /api/v1/rules lists every rule of compose/prometheus/rules/ with health "ok".
// Needs the build (`npm run build`). Exit 0 when all hold, 1 otherwise, with one line per failure.
//
//   node e2e/monitoring/check-prometheus.mjs [http://127.0.0.1:9090] [--rate-window 5m] [--json]
//     [--skip dsm-operator.json,...]   dashboards of services this Prometheus does not scrape (the compose
//                                      stack runs no operator), named in the report as skipped
import { join } from 'node:path';
import { URLSearchParams, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args.splice(i, 2)[1];
};
const json = args.includes('--json') && args.splice(args.indexOf('--json'), 1).length > 0;
const rateWindow = option('--rate-window', '5m');
const skipped = new Set(option('--skip', '').split(',').filter(Boolean));
const url = (args[0] ?? 'http://127.0.0.1:9090').replace(/\/$/, '');

const root = join(import.meta.dirname, '..', '..');
const { DASHBOARDS, allRules, dashboardQueries, expandQuery, variableValues } = await import(
  pathToFileURL(join(root, 'workloads/dashboards/dist/index.js')).href
);

async function api(path, params = {}) {
  const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
  return response.json();
}

const failures = [];
const queries = [];
for (const file of skipped) if (!(file in DASHBOARDS)) failures.push(`--skip ${file}: no such dashboard`);
for (const [file, build] of Object.entries(DASHBOARDS)) {
  if (skipped.has(file)) continue;
  const dashboard = build();
  for (const q of dashboardQueries(dashboard)) {
    const expr = expandQuery(q.expr, variableValues(dashboard), rateWindow);
    const answer = await api('/api/v1/query', { query: expr });
    const series = answer.data?.result?.length ?? 0;
    queries.push({ dashboard: file, panel: q.panel, refId: q.refId, expr, series, error: answer.error });
    if (answer.status !== 'success')
      failures.push(`${file} "${q.panel}" ${q.refId}: ${answer.error}: ${expr}`);
    else if (series === 0) failures.push(`${file} "${q.panel}" ${q.refId}: no series: ${expr}`);
  }
}
const rules = allRules();
for (const rule of rules) {
  const answer = await api('/api/v1/query', { query: rule.expr });
  if (answer.status !== 'success')
    failures.push(`rule ${rule.alert ?? rule.record} (${rule.file}): ${answer.error}`);
}
const loaded = (await api('/api/v1/rules')).data.groups.flatMap((g) =>
  g.rules.map((r) => ({ group: g.name, name: r.name, health: r.health, lastError: r.lastError ?? '' })),
);
for (const rule of rules) {
  const name = rule.alert ?? rule.record;
  const found = loaded.find((l) => l.group === rule.group && l.name === name);
  if (!found) failures.push(`rule ${name} (${rule.file}) is not loaded`);
  else if (found.health !== 'ok') failures.push(`rule ${name}: health ${found.health} ${found.lastError}`);
}

if (json)
  console.log(JSON.stringify({ url, queries, skipped: [...skipped], rules: loaded, failures }, null, 2));
else {
  console.log(
    `${url}: ${queries.length} dashboard queries, ${queries.filter((q) => q.series > 0).length} with data; ` +
      `${rules.length} rules, ${loaded.filter((l) => l.health === 'ok').length} loaded ok` +
      (skipped.size > 0 ? `; skipped ${[...skipped].join(', ')}` : ''),
  );
  for (const failure of failures) console.log(`FAIL ${failure}`);
}
process.exit(failures.length === 0 ? 0 : 1);
