/**
 * ServiceMonitor and PrometheusRule against the Prometheus operator's real CRDs (its pinned release, from
 * its Go module: e2e/cluster/prometheus-operator-crds.sh): none are made while the CRDs are absent, the
 * operator notices them once installed and creates the cluster's monitors and alert rules, which the real
 * schemas accept under strict field validation, and removes them when the spec turns them off.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { desiredObjects, type DSMCluster } from '@dsm/cdk8s';
import { deleteNamespace, kubectl, waitFor } from '../../../e2e/cluster/kube.js';
import { Harness } from './harness.js';

const NAME = 'watched';
const CRDS = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'];
const CRD_NAMES = ['servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com'];
const crdDir = execFileSync(
  'bash',
  [join(import.meta.dirname, '../../../e2e/cluster/prometheus-operator-crds.sh')],
  {
    encoding: 'utf8',
  },
).trim();

let h: Harness;

async function removeCrds(): Promise<void> {
  await kubectl(['delete', 'crd', ...CRD_NAMES, '--ignore-not-found', '--wait=true', '--timeout=120s']);
}

/** Names of the monitoring objects of `kind` in the test namespace (none while the CRD is absent). */
async function live(kind: 'servicemonitors' | 'prometheusrules'): Promise<string[]> {
  const { stdout } = await kubectl([
    'get',
    `${kind}.monitoring.coreos.com`,
    '-n',
    h.namespace,
    '-o',
    'name',
  ]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(line.indexOf('/') + 1))
    .sort();
}

const monitoringObjects = (cluster: DSMCluster) =>
  desiredObjects(cluster, { capabilities: { serviceMonitor: true, prometheusRule: true } }).filter(
    (o) => o.kind === 'ServiceMonitor' || o.kind === 'PrometheusRule',
  );

beforeAll(async () => {
  await removeCrds();
  h = await Harness.start('monitoring', { capabilityCheckMs: 500 });
});

afterAll(async () => {
  await h?.stop();
  if (h) await deleteNamespace(h.namespace);
  // Cluster-wide: other test files expect a cluster without the Prometheus operator.
  await removeCrds();
});

describe('monitoring objects', () => {
  it('are not made while the Prometheus operator is not installed', async () => {
    await h.createCluster(NAME, { version: '1.0.0' });
    await h.reconcileUntil(NAME, 'a first status', () => h.cached(NAME)?.status?.observedGeneration === 1);
    expect(h.informers.capabilities()).toEqual({ serviceMonitor: false, prometheusRule: false });
    expect(await live('servicemonitors')).toEqual([]);
  });

  it('appear once its CRDs do, accepted by the real schemas under strict validation', async () => {
    for (const file of CRDS) await kubectl(['apply', '--server-side', '-f', join(crdDir, file)]);
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...CRD_NAMES.map((n) => `crd/${n}`),
    ]);
    await waitFor('the operator to notice the CRDs', async () => {
      const caps = h.informers.capabilities();
      return caps.serviceMonitor && caps.prometheusRule;
    });
    const wanted = monitoringObjects(h.cached(NAME)!);
    const monitors = wanted
      .filter((o) => o.kind === 'ServiceMonitor')
      .map((o) => o.metadata.name)
      .sort();
    const rules = wanted
      .filter((o) => o.kind === 'PrometheusRule')
      .map((o) => o.metadata.name)
      .sort();
    expect(monitors.length).toBeGreaterThanOrEqual(2);
    expect(rules).toEqual([`${NAME}-alerts`]);
    await h.reconcileUntil(
      NAME,
      'the ServiceMonitors and the PrometheusRule',
      async () =>
        JSON.stringify(await live('servicemonitors')) === JSON.stringify(monitors) &&
        JSON.stringify(await live('prometheusrules')) === JSON.stringify(rules),
    );
    // Strict: a field the real schema does not know would be an error here, not a silent drop.
    for (const object of wanted) {
      const { stderr } = await kubectl(
        [
          'apply',
          '--dry-run=server',
          '--validate=strict',
          '--server-side',
          '--field-manager',
          'dsm-operator',
          '-f',
          '-',
        ],
        JSON.stringify(object),
      );
      expect([object.kind, object.metadata.name, stderr]).toEqual([object.kind, object.metadata.name, '']);
    }
    const { stdout } = await kubectl([
      'get',
      'prometheusrule',
      `${NAME}-alerts`,
      '-n',
      h.namespace,
      '-o',
      'json',
    ]);
    const alerts = (
      JSON.parse(stdout) as {
        spec: { groups: { rules: { alert?: string; annotations?: Record<string, string> }[] }[] };
      }
    ).spec.groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts)
      expect([alert.alert, alert.annotations?.runbook]).toEqual([
        alert.alert,
        expect.stringMatching(/docs\/runbooks\.md#/),
      ]);
  });

  it('go when the spec turns them off', async () => {
    await h.patchSpec(NAME, {
      monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } },
    });
    await h.reconcileUntil(
      NAME,
      'the monitoring objects pruned',
      async () =>
        (await live('servicemonitors')).length === 0 && (await live('prometheusrules')).length === 0,
    );
  });
});
