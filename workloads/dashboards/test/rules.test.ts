/**
 * The alert rules of compose/prometheus/rules/ as a person on call needs them: one group per file, each
 * alert with a severity, a summary, a description and a `runbook` annotation pointing at a section of
 * docs/runbooks.md, and promtool unit tests (compose/prometheus/tests/) where it fires and where it does
 * not. promtool itself runs them in `npm run test:e2e:monitoring`; this checks they exist.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  PROMETHEUS_DIR,
  allRules,
  loadRuleFiles,
  loadRuleTests,
  readPromql,
  sectionAnchors,
} from '@dsm/dashboards';

type Alert = ReturnType<typeof allRules>[number] & { alert: string };
const alerts = allRules().filter((rule): rule is Alert => rule.alert !== undefined);
const byName = alerts.map((a): [string, Alert] => [a.alert, a]);
const tests = loadRuleTests();

describe('alert rules', () => {
  it('one rule group per file, group names unique', () => {
    const files = loadRuleFiles();
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const { file, groups } of files)
      expect({ file, groups: groups.length }).toEqual({ file, groups: 1 });
    const names = files.map((f) => f.groups[0]!.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('cover what the issue asks for', () => {
    const exprs = alerts.map((a) => a.expr).join('\n');
    for (const job of ['dsm-core', 'dsm-storage', 'dsm-ethereum-bridge', 'prometheus'])
      expect(alerts.some((a) => a.expr.replace(/\s/g, '') === `up{job="${job}"}==0`)).toBe(true);
    for (const metric of [
      'dsm_storage_replication_lag_seconds',
      'dsm_storage_peers_up',
      'dsm_http_request_duration_seconds_count',
      'dsm_http_request_duration_seconds_bucket',
      'dsm_policy_verification_total',
      'dsm_bridge_halted',
      'dsm_bridge_invariant_gap',
      'dsm_bridge_confirmation_lag_blocks',
      'dsm_bridge_pending',
      'dsm_bridge_up',
      'dsm_bridge_proof_failures_total',
    ])
      expect(exprs).toContain(metric);
  });

  it.each(byName)('%s: parses, has severity, summary, description', (_name, alert) => {
    expect(readPromql(alert.expr).errors).toEqual([]);
    expect(['critical', 'warning']).toContain(alert.labels?.severity);
    expect(alert.annotations?.summary).toBeTruthy();
    expect((alert.annotations?.description ?? '').length).toBeGreaterThan(60);
  });

  it.each(byName)('%s: its runbook section exists', (name, alert) => {
    expect(alert.annotations?.runbook).toBe(`docs/runbooks.md#${name.toLowerCase()}`);
    expect(sectionAnchors()).toContain(name.toLowerCase());
  });

  it('every runbook section is an alert', () => {
    const names = new Set(alerts.map((a) => a.alert.toLowerCase()));
    expect(sectionAnchors().filter((anchor) => !names.has(anchor))).toEqual([]);
  });

  it.each(byName)('%s: promtool tests where it fires and where it does not', (name, alert) => {
    const cases = tests
      .filter((t) => t.rule_files.includes(`../rules/${alert.file}`))
      .flatMap((t) => t.tests.flatMap((c) => c.alert_rule_test ?? []))
      .filter((c) => c.alertname === name);
    expect(cases.some((c) => (c.exp_alerts ?? []).length > 0)).toBe(true);
    expect(cases.some((c) => (c.exp_alerts ?? []).length === 0)).toBe(true);
  });

  it('each test file tests one rule file, and every rule file has one', () => {
    expect(tests.map((t) => t.rule_files)).toEqual(loadRuleFiles().map((f) => [`../rules/${f.file}`]));
  });
});

describe('prometheus.yml', () => {
  const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };

  it('scrapes the compose services by name and port, and Prometheus itself', () => {
    const targets = Object.fromEntries(
      config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((s) => s.targets)]),
    );
    expect(targets).toEqual({
      'dsm-core': ['dsm-core:8765'],
      'dsm-storage': ['dsm-storage-primary:8765', 'dsm-storage-replica:8765'],
      'dsm-ethereum-bridge': ['dsm-ethereum-bridge:8768'],
      prometheus: ['localhost:9090'],
    });
  });

  it('loads the rule files', () => {
    expect(config.rule_files).toEqual(['rules/*.yml']);
  });
});
