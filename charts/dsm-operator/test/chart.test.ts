/**
 * The chart against the real API it installs into: helm lint, helm template of several value sets checked
 * by kubeconform with the apiserver's own schemas (strict) and by a server-side dry run, the values schema
 * refusing bad values, a real `helm install` whose service account can do what the operator does and no
 * more (no Secret read but its own key's, by name, in its own namespace), and the examples/ users copy validated against the installed CRD.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { deleteNamespace, freshNamespace, installCrd, kubectl } from '../../../e2e/cluster/kube.js';
import { kubeconform, writeSchemas } from '../../../e2e/cluster/kubeconform.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../../..');
const chart = join(root, 'charts/dsm-operator');
const examples = join(root, 'examples');
const KUBE_VERSION = '1.36.3';

async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(join(process.env.DSM_CLUSTER_BIN!, 'helm'), args, {
    encoding: 'utf8',
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(work, 'helm-cache'),
      HELM_CONFIG_HOME: join(work, 'helm-config'),
    },
  });
}

const failure = (call: Promise<unknown>) =>
  call.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: { stderr?: string; message: string }) => error.stderr ?? error.message,
  );

let work: string;
let schemas: string;
let namespace: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dsm-chart-'));
  namespace = await freshNamespace('chart');
  // The namespaces the `namespaced` value set names (its Roles live there).
  for (const ns of WATCHED) await kubectl(['create', 'namespace', ns]).catch(() => undefined);
  await installCrd();
  schemas = await writeSchemas(join(work, 'schemas'));
});
afterAll(async () => {
  await deleteNamespace(namespace);
  for (const ns of WATCHED) await deleteNamespace(ns);
  rmSync(work, { recursive: true, force: true });
});

const WATCHED = ['team-a', 'team-b'];
const VALUE_SETS: Record<string, string[]> = {
  defaults: [],
  namespaced: ['--set', 'watchNamespaces={team-a,team-b}'],
  single: [
    '--set',
    'replicaCount=1',
    '--set',
    'networkPolicy.enabled=false',
    '--set',
    'rbac.create=false',
    '--set',
    'serviceAccount.create=false',
    '--set',
    'serviceAccount.name=existing',
  ],
  dashboards: ['--set', 'dashboards.enabled=true', '--set', 'dashboards.labels.team=dsm'],
  tuned: [
    '--set',
    'config.workers=4',
    '--set',
    'config.logLevel=debug',
    '--set',
    'image.repository=registry.example/dsm/',
    '--set',
    'image.tag=0.2.0',
    '--set',
    'priorityClassName=high',
  ],
};

async function render(name: string, args: string[]): Promise<string> {
  const { stdout } = await helm([
    'template',
    'dsm-operator',
    chart,
    '--namespace',
    namespace,
    '--kube-version',
    KUBE_VERSION,
    ...args,
  ]);
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, stdout);
  return file;
}

describe('helm', () => {
  it('lints clean in strict mode', async () => {
    const { stdout } = await helm(['lint', '--strict', chart, '--kube-version', KUBE_VERSION]);
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it.each(Object.keys(VALUE_SETS))(
    'renders %s values that kubeconform (strict) and a server-side dry run accept',
    async (name) => {
      const file = await render(name, VALUE_SETS[name]!);
      const result = await kubeconform(schemas, [file]);
      expect(result.messages.filter((m) => !m.includes(' valid: '))).toEqual([]);
      expect(result.invalid + result.errors + result.skipped).toBe(0);
      // Deployment and Service at least (the single set turns RBAC, the account and the policies off).
      expect(result.valid).toBeGreaterThanOrEqual(2);
      const { stderr } = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', file]);
      // A pod template breaking Pod Security "restricted" would show here as a warning.
      expect(stderr).toBe('');
    },
  );

  it('renders one ClusterRole when watching every namespace, and only Roles in the listed ones otherwise', async () => {
    const kinds = (text: string) =>
      parseAllDocuments(text).map(
        (d) => `${d.get('kind')}/${String(d.getIn(['metadata', 'namespace']) ?? '')}`,
      );
    const all = kinds(
      (await helm(['template', 'x', chart, '-n', 'ops', '--kube-version', KUBE_VERSION])).stdout,
    );
    expect(all).toEqual(expect.arrayContaining(['ClusterRole/', 'ClusterRoleBinding/', 'Role/ops']));
    const some = kinds(
      (
        await helm([
          'template',
          'x',
          chart,
          '-n',
          'ops',
          '--kube-version',
          KUBE_VERSION,
          ...VALUE_SETS.namespaced!,
        ])
      ).stdout,
    );
    expect(some.filter((k) => k.startsWith('ClusterRole'))).toEqual([]);
    expect(some).toEqual(
      expect.arrayContaining(['Role/team-a', 'RoleBinding/team-a', 'Role/team-b', 'Role/ops']),
    );
  });

  it('refuses bad values before anything reaches the cluster, naming the value', async () => {
    const bad = async (...args: string[]) =>
      failure(helm(['template', 'x', chart, '--kube-version', KUBE_VERSION, ...args]));
    expect(await bad('--set', 'config.workers=0')).toMatch(/at '\/config\/workers': minimum: got 0, want 1/);
    expect(await bad('--set', 'replicas=3')).toMatch(/additional properties 'replicas' not allowed/);
    expect(await bad('--set', 'config.logLevel=loud')).toMatch(/at '\/config\/logLevel'/);
    expect(await bad('--set', 'serviceMonitor.enabled=true')).toMatch(
      /needs the Prometheus operator's ServiceMonitor CRD/,
    );
  });
});

describe("with the Prometheus operator's ServiceMonitor CRD (its pinned release)", () => {
  const crd = 'servicemonitors.monitoring.coreos.com';
  beforeAll(async () => {
    const dir = (
      await run('bash', [join(root, 'e2e/cluster/prometheus-operator-crds.sh')], { encoding: 'utf8' })
    ).stdout.trim();
    await kubectl(['apply', '--server-side', '-f', join(dir, 'monitoring.coreos.com_servicemonitors.yaml')]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd}`]);
  });
  afterAll(async () => {
    // Cluster-wide: the other tests expect no Prometheus operator.
    await kubectl(['delete', 'crd', crd, '--ignore-not-found', '--wait=true', '--timeout=120s']);
  });

  it('renders a ServiceMonitor that the real schema accepts, naming the job the Operator dashboard selects', async () => {
    const file = await render('service-monitor', [
      '--api-versions',
      'monitoring.coreos.com/v1/ServiceMonitor',
      '--set',
      'serviceMonitor.enabled=true',
      '--set',
      'serviceMonitor.labels.release=prometheus',
    ]);
    const { stderr } = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', file]);
    expect(stderr).toBe('');
    const monitor = parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJSON() as { kind: string; spec: { endpoints: { relabelings: unknown[] }[] } })
      .find((d) => d.kind === 'ServiceMonitor')!;
    expect(monitor.spec.endpoints[0]!.relabelings).toEqual([
      { action: 'replace', targetLabel: 'job', replacement: 'dsm-operator' },
    ]);
  });
});

describe('helm install on the real apiserver', () => {
  let release: string;
  beforeAll(async () => {
    release = await freshNamespace('operator');
    await helm(['install', 'dsm-operator', chart, '--namespace', release]);
  });
  afterAll(async () => {
    await helm(['uninstall', 'dsm-operator', '--namespace', release]).catch(() => undefined);
    await deleteNamespace(release);
  });

  const can = async (verb: string, resource: string, ns = namespace) => {
    const as = `system:serviceaccount:${release}:dsm-operator`;
    const answer = await kubectl(['auth', 'can-i', verb, resource, '-n', ns, '--as', as]).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout }),
    );
    return answer.stdout.trim();
  };

  it('installs the CRD, the RBAC and two operator replicas', async () => {
    // enableServiceLinks false: Kubernetes would otherwise set DSM_OPERATOR_METRICS_PORT=tcp://... for
    // the metrics Service, over the operator's setting.
    const { stdout } = await kubectl([
      'get',
      'deployment',
      'dsm-operator',
      '-n',
      release,
      '-o',
      'jsonpath={.spec.replicas} {.spec.template.spec.enableServiceLinks}',
    ]);
    expect(stdout).toBe('2 false');
    const crd = await kubectl([
      'get',
      'crd',
      'dsmclusters.dsm.io',
      '-o',
      'jsonpath={.spec.names.shortNames}',
    ]);
    expect(crd.stdout).toContain('dsm');
  });

  it('gives the operator what it does and nothing more', async () => {
    const allowed = [
      ['watch', 'dsmclusters.dsm.io'],
      ['patch', 'dsmclusters.dsm.io/status'],
      ['patch', 'statefulsets.apps'],
      ['delete', 'networkpolicies.networking.k8s.io'],
      ['create', 'secrets'],
      ['list', 'pods'],
      // The bridge's volume is the operator's to make (server-side apply).
      ['patch', 'persistentvolumeclaims'],
      ['create', 'events.events.k8s.io'],
    ];
    const refused = [
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['watch', 'secrets'],
      ['update', 'secrets'],
      ['delete', 'persistentvolumeclaims'],
      ['update', 'persistentvolumeclaims'],
      ['create', 'pods'],
      ['create', 'clusterroles.rbac.authorization.k8s.io'],
      ['delete', 'customresourcedefinitions.apiextensions.k8s.io'],
    ];
    for (const [verb, resource] of allowed)
      expect([verb, resource, await can(verb!, resource!)]).toEqual([verb, resource, 'yes']);
    for (const [verb, resource] of refused)
      expect([verb, resource, await can(verb!, resource!)]).toEqual([verb, resource, 'no']);
    // The leader Lease only in the operator's own namespace.
    expect(await can('update', 'leases.coordination.k8s.io', release)).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', namespace)).toBe('no');
  });

  it('lets the operator read exactly its key Secret, in its own namespace, and no other Secret anywhere', async () => {
    const key = 'secrets/dsm-operator-key';
    // Its key: created at start when missing, then read by name.
    expect(await can('get', key, release)).toBe('yes');
    expect(await can('create', 'secrets', release)).toBe('yes');
    // Nothing else about Secrets, there or anywhere.
    const refused: [string, string, string][] = [
      ['get', 'secrets', release],
      ['get', 'secrets/another-secret', release],
      ['list', 'secrets', release],
      ['watch', 'secrets', release],
      ['update', key, release],
      ['patch', key, release],
      ['delete', key, release],
      ['get', key, namespace],
      ['get', 'secrets/devnet-admin-token', namespace],
      ['get', 'secrets/devnet-peer-token', namespace],
      ['list', 'secrets', 'kube-system'],
      ['get', 'secrets', '--all-namespaces'],
    ];
    for (const [verb, resource, ns] of refused) {
      const answer =
        ns === '--all-namespaces'
          ? await kubectl([
              'auth',
              'can-i',
              verb,
              resource,
              '--all-namespaces',
              '--as',
              `system:serviceaccount:${release}:dsm-operator`,
            ]).then(
              (r) => r.stdout.trim(),
              (error: { stdout: string }) => error.stdout.trim(),
            )
          : await can(verb, resource, ns);
      expect([verb, resource, ns, answer]).toEqual([verb, resource, ns, 'no']);
    }
  });

  it('names the key Secret in the Role from config.keySecret', async () => {
    const { stdout } = await helm([
      'template',
      'x',
      chart,
      '-n',
      'ops',
      '--kube-version',
      KUBE_VERSION,
      '--set',
      'config.keySecret=my-key',
    ]);
    const role = parseAllDocuments(stdout)
      .map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; rules?: unknown[] })
      .find((o) => o.kind === 'Role' && o.metadata.namespace === 'ops');
    expect(role?.rules).toEqual(
      expect.arrayContaining([
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['my-key'], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      ]),
    );
    expect(stdout).toMatch(/name: DSM_OPERATOR_KEY_SECRET\s+value: "my-key"/);
  });
});

describe('examples/', () => {
  const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));

  it('has the example the README applies', () => {
    expect(files).toContain('dsmcluster.yaml');
  });

  it.each(files)(
    '%s is valid against the installed CRD (kubeconform strict, server-side dry run)',
    async (file) => {
      const path = join(examples, file);
      const result = await kubeconform(schemas, [path]);
      expect(result.messages.filter((m) => !m.includes(' valid: '))).toEqual([]);
      expect(result.valid).toBeGreaterThanOrEqual(1);
      const { stderr } = await kubectl([
        'apply',
        '--dry-run=server',
        '--validate=strict',
        '-n',
        namespace,
        '-f',
        path,
      ]);
      // evm-devchain.yaml's pod breaking Pod Security "restricted" would show here as a warning.
      expect(stderr).toBe('');
    },
  );
});
