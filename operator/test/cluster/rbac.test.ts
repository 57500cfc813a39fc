/**
 * The chart's RBAC is enough: operator/dist/main.js runs as the chart's ServiceAccount (a TokenRequest token
 * in a kubeconfig of its own, nothing else), with only the Roles the chart renders, and manages
 * examples/dsmcluster.yaml and dsmcluster-bridge.yaml (whose bridge volume the operator makes itself): every
 * desired object appears owned by the cluster, the generated Secrets hold
 * what they should (the peer token derived from the operator's key), the status gets its conditions, and
 * nothing in the operator's log is a 403. charts/dsm-operator/test proves the same RBAC is the least.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  desiredObjects,
  dsmClusterSpecSchema,
  names,
  secretRefs,
  type DSMCluster,
  type KubeObject,
} from '@dsm/cdk8s';
import { derivePeerToken } from '../../src/peer-token.js';
import { startOperator } from './operator-process.js';
import {
  deleteNamespace,
  freshNamespace,
  installCrd,
  kubeConfig,
  kubectl,
  waitFor,
} from '../../../e2e/cluster/kube.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const CHART = join(root, 'charts/dsm-operator');
/** The examples and the clusters they name. */
const EXAMPLES = { devnet: 'dsmcluster.yaml', bridged: 'dsmcluster-bridge.yaml' } as const;
type Example = keyof typeof EXAMPLES;
const examplePath = (name: Example) => join(root, 'examples', EXAMPLES[name]);
const KEY_SECRET = 'dsm-operator-key';

const config = kubeConfig();
const custom = config.makeApiClient(k8s.CustomObjectsApi);
const core = config.makeApiClient(k8s.CoreV1Api);
const objects = k8s.KubernetesObjectApi.makeApiClient(config);

let work: string;
let release: string;
let watched: string;
let operator: ChildProcess | undefined;
let output: () => string = () => '';

async function helm(args: string[]): Promise<string> {
  const { stdout } = await run(join(process.env.DSM_CLUSTER_BIN!, 'helm'), args, {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(work, 'helm-cache'),
      HELM_CONFIG_HOME: join(work, 'helm-config'),
    },
  });
  return stdout;
}

/** A kubeconfig with the test cluster's server and CA, and nothing but `token` to authenticate. */
function tokenKubeconfig(token: string): string {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the test kubeconfig has no current cluster');
  const ca = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  const file = join(work, 'operator.kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'test',
          cluster: {
            server: cluster.server,
            ...(ca !== undefined ? { 'certificate-authority-data': ca } : {}),
            ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
          },
        },
      ],
      users: [{ name: 'operator', user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'test', user: 'operator' } }],
      'current-context': 'operator',
    }),
    { mode: 0o600 },
  );
  return file;
}

const cluster = (name: Example = 'devnet') =>
  custom
    .getNamespacedCustomObject({
      group: 'dsm.io',
      version: 'v1alpha1',
      namespace: watched,
      plural: 'dsmclusters',
      name,
    })
    .then((c) => c as DSMCluster)
    .catch(() => undefined);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dsm-rbac-'));
  release = await freshNamespace('rbac-operator');
  watched = await freshNamespace('rbac-clusters');
  await installCrd();

  // The chart's ServiceAccount and RBAC only (namespaced form: a Role in the watched namespace).
  const rendered = await helm([
    'template',
    'dsm-operator',
    CHART,
    '--namespace',
    release,
    // helm template asks no apiserver: the version the chart requires, as chart.test.ts renders for.
    '--kube-version',
    '1.36.3',
    '--set',
    `watchNamespaces={${watched}}`,
    '--show-only',
    'templates/serviceaccount.yaml',
    '--show-only',
    'templates/rbac.yaml',
  ]);
  const file = join(work, 'rbac.yaml');
  writeFileSync(file, rendered);
  // Every object names its namespace (the Roles are in two).
  await kubectl(['apply', '-f', file]);
  const token = (
    await kubectl(['create', 'token', 'dsm-operator', '-n', release, '--duration', '1h'])
  ).stdout.trim();
  const kubeconfigFile = tokenKubeconfig(token);

  // Nothing of the test's own identity reaches the operator: only the token kubeconfig.
  const started = await startOperator(
    'dsm-operator-rbac-0',
    {
      KUBECONFIG: kubeconfigFile,
      POD_NAMESPACE: release,
      DSM_OPERATOR_LEASE_NAMESPACE: release,
      DSM_OPERATOR_WATCH_NAMESPACES: watched,
      DSM_OPERATOR_RESYNC_MS: '5000',
    },
    { inherit: false, logLevel: 'debug' },
  );
  operator = started.child;
  output = started.output;

  for (const name of Object.keys(EXAMPLES) as Example[])
    await kubectl(['apply', '-n', watched, '-f', examplePath(name)]);
});

afterAll(async () => {
  if (operator && operator.exitCode === null) {
    const exited = new Promise((resolve) => operator!.once('exit', resolve));
    operator.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (operator.exitCode === null) operator.kill('SIGKILL');
  }
  if (watched) await deleteNamespace(watched);
  if (release) await deleteNamespace(release);
  rmSync(work, { recursive: true, force: true });
});

describe("the operator with nothing but the chart's RBAC", () => {
  it('creates its key Secret in its own namespace', async () => {
    const key = await waitFor(
      'the operator key Secret',
      () => core.readNamespacedSecret({ name: KEY_SECRET, namespace: release }).catch(() => undefined),
      60_000,
      500,
    );
    expect(key.immutable).toBe(true);
    expect(Buffer.from(key.data!.key!, 'base64').length).toBe(32);
  });

  it.each(Object.keys(EXAMPLES) as Example[])(
    'makes every desired object of %s, owned by the cluster',
    async (name) => {
      const live = await waitFor(`the DSMCluster ${name}`, () => cluster(name));
      const uid = live.metadata.uid!;
      const spec = dsmClusterSpecSchema.parse(
        (parse(readFileSync(examplePath(name), 'utf8')) as { spec: unknown }).spec,
      );
      const expected: KubeObject[] = desiredObjects(
        { ...live, metadata: { ...live.metadata, namespace: watched }, spec },
        { capabilities: { serviceMonitor: false, prometheusRule: false } },
      );
      expect(expected.length).toBeGreaterThan(8);
      for (const object of expected) {
        const what = `${object.kind}/${object.metadata.name}`;
        const found = await waitFor(
          what,
          () =>
            objects
              .read(object as k8s.KubernetesObject & { metadata: { name: string } })
              .catch(() => undefined),
          60_000,
          500,
        );
        const retained = object.metadata.annotations?.['dsm.io/reclaim-policy'] === 'Retain';
        if (!retained) expect([what, found.metadata?.ownerReferences?.[0]?.uid]).toEqual([what, uid]);
      }
    },
  );

  it("creates the generated Secrets; the peer token is the one derived from the operator's key", async () => {
    const live = (await cluster())!;
    const n = names('devnet');
    for (const name of [n.adminToken, n.apiToken, n.keystoreKey, n.peerToken])
      await waitFor(
        `Secret ${name}`,
        () => core.readNamespacedSecret({ name, namespace: watched }).catch(() => undefined),
        30_000,
        500,
      );
    const key = await core.readNamespacedSecret({ name: KEY_SECRET, namespace: release });
    const peer = await core.readNamespacedSecret({ name: n.peerToken, namespace: watched });
    const ref = secretRefs({ ...live, spec: dsmClusterSpecSchema.parse(live.spec) }).peerToken;
    expect(Buffer.from(peer.data![ref.key]!, 'base64').toString('utf8')).toBe(
      derivePeerToken(Buffer.from(key.data!.key!, 'base64'), {
        namespace: watched,
        name: 'devnet',
        uid: live.metadata.uid!,
      }),
    );
  });

  it.each(Object.keys(EXAMPLES) as Example[])('writes a status with conditions for %s', async (name) => {
    const wanted = ['Ready', 'Progressing', 'Degraded', 'StorageReady', 'CoreReady'];
    if (name === 'bridged') wanted.push('BridgeReady');
    const live = await waitFor(
      `status conditions of ${name}`,
      async () => {
        const c = await cluster(name);
        const types: string[] = c?.status?.conditions?.map((x) => x.type) ?? [];
        return wanted.every((t) => types.includes(t)) ? c : undefined;
      },
      60_000,
      500,
    );
    expect(live.status?.observedGeneration).toBe(live.metadata.generation);
    // No kubelet here: the pods never become ready, so the cluster waits for them.
    expect(live.status?.conditions?.find((c) => c.type === 'StorageReady')).toMatchObject({
      status: 'False',
      reason: 'WaitingForPods',
    });
  });

  it('never met a 403 on the way', async () => {
    // Another resync (every 5 s) with everything in place, then look at the whole log.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(operator?.exitCode).toBeNull();
    expect(output()).toMatch(/operator key created/);
    // A refusal shows as the apiserver's status code or its reason, in whatever log line reports it.
    const refused = output()
      .split('\n')
      .filter((line) => /"(status|code|statusCode)":\s*403\b|HTTP 403\b|forbidden/i.test(line));
    expect(refused).toEqual([]);
  });
});
