/**
 * The operator as it ships: two operator/dist/main.js processes (admin kubeconfig) against the real
 * apiserver and kube-controller-manager. The example DSMCluster applied with kubectl gets every desired
 * object, its status follows the pods made ready by hand, `kubectl describe` shows the operator's Events,
 * /metrics tells the leader from the standby, and SIGKILLing the leader right after a spec change lets the
 * standby take the Lease within the lease duration and converge the change.
 *
 * main.js has no way to point the storage probe at processes of the test's own (it asks
 * `<pod>.<headless>.<namespace>.svc:8765`, which nothing resolves here), so the cluster cannot become Ready
 * in this layer: the test checks instead that StorageReady names the storage pods that did not answer.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  desiredObjects,
  dsmClusterSpecSchema,
  generatedSecrets,
  names,
  type DSMCluster,
  type KubeObject,
} from '@dsm/cdk8s';
import {
  deleteNamespace,
  freshNamespace,
  installCrd,
  kubeConfig,
  kubectl,
  setPodReady,
  waitFor,
} from '../../../e2e/cluster/kube.js';
import {
  shortLeaseEnv,
  startOperator as start,
  type OperatorProcess as Operator,
} from './operator-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = join(here, '../../../examples/dsmcluster.yaml');
const LEASE = 'dsm-operator-main-test';
const LEASE_MS = 6000;
const API = { group: 'dsm.io', version: 'v1alpha1', plural: 'dsmclusters' } as const;

const config = kubeConfig();
const objects = k8s.KubernetesObjectApi.makeApiClient(config);
const custom = config.makeApiClient(k8s.CustomObjectsApi);
const core = config.makeApiClient(k8s.CoreV1Api);
const apps = config.makeApiClient(k8s.AppsV1Api);

let namespace: string;
const children: ChildProcess[] = [];

async function startOperator(name: string): Promise<Operator> {
  const operator = await start(name, shortLeaseEnv(namespace, LEASE, LEASE_MS));
  children.push(operator.child);
  return operator;
}

async function holder(): Promise<string | undefined> {
  const lease = await config
    .makeApiClient(k8s.CoordinationV1Api)
    .readNamespacedLease({ name: LEASE, namespace })
    .catch(() => undefined);
  return lease?.spec?.holderIdentity;
}

/** The values of every sample of `name` (any labels) in the operator's /metrics text. */
async function metric(op: Operator, name: string): Promise<number[]> {
  const text = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

type Cluster = DSMCluster & { metadata: { generation?: number } };
const read = (name: string) =>
  custom.getNamespacedCustomObject({ ...API, namespace, name }) as Promise<Cluster>;
const condition = (cluster: Cluster | undefined, type: string) =>
  cluster?.status?.conditions?.find((c) => c.type === type);

const pod = (name: string) => core.readNamespacedPod({ name, namespace }).catch(() => undefined);

beforeAll(async () => {
  namespace = await freshNamespace('main');
  await installCrd();
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (namespace) await deleteNamespace(namespace);
});

describe('two operator processes running examples/dsmcluster.yaml', () => {
  const example = parse(readFileSync(EXAMPLE, 'utf8')) as { metadata: { name: string } };
  const NAME = example.metadata.name;
  const n = names(NAME);
  let leader: Operator;
  let standby: Operator;

  it('one leads; the example applied with kubectl gets every desired object', async () => {
    const a = await startOperator(`op-a-${randomBytes(2).toString('hex')}`);
    const b = await startOperator(`op-b-${randomBytes(2).toString('hex')}`);
    const held = await waitFor(
      `one of them to hold the Lease (op-a: ${a.output()}; op-b: ${b.output()})`,
      holder,
      30_000,
      100,
    );
    [leader, standby] = held.startsWith(`${a.name}_`) ? [a, b] : [b, a];
    expect(held.startsWith(`${leader.name}_`)).toBe(true);

    const { stdout } = await kubectl(['apply', '-n', namespace, '-f', EXAMPLE]);
    expect(stdout.trim()).toBe(`dsmcluster.dsm.io/${NAME} created`);
    const cluster = await read(NAME);
    const spec = dsmClusterSpecSchema.parse(cluster.spec);
    const expected: KubeObject[] = [
      ...desiredObjects({ ...cluster, spec } as DSMCluster, {
        capabilities: { serviceMonitor: false, prometheusRule: false },
      }),
      ...generatedSecrets({ ...cluster, spec } as DSMCluster, randomBytes),
    ];
    expect(expected.length).toBeGreaterThan(8);
    for (const object of expected) {
      const what = `${object.kind}/${object.metadata.name}`;
      const live = await waitFor(
        `${what} (leader output: ${leader.output().slice(-2000)})`,
        () =>
          objects
            .read(object as k8s.KubernetesObject & { metadata: { name: string } })
            .catch(() => undefined),
        30_000,
      );
      expect([what, live.metadata?.managedFields?.some((f) => f.manager === 'dsm-operator')]).toEqual([
        what,
        true,
      ]);
    }
    await waitFor('a first status', async () => (await read(NAME)).status?.observedGeneration === 1);
  });

  it('status follows the pods made ready by hand; StorageReady names the storage pods the probe cannot reach', async () => {
    for (const name of [n.pod('storage', 0), n.pod('storage', 1), n.pod('core', 0)]) {
      await waitFor(`pod ${name}`, async () => (await pod(name)) !== undefined);
      await setPodReady(namespace, name);
    }
    const cluster = await waitFor(
      'CoreReady True and StorageReady naming both storage pods',
      async () => {
        const c = await read(NAME);
        const storage = condition(c, 'StorageReady');
        return condition(c, 'CoreReady')?.status === 'True' &&
          storage?.reason === 'StorageCatchingUp' &&
          storage.message.includes(`${n.pod('storage', 1)} did not answer`)
          ? c
          : undefined;
      },
      60_000,
    );
    const storage = condition(cluster, 'StorageReady')!;
    expect(storage.status).toBe('False');
    expect(storage.message).toMatch(
      new RegExp(
        `^0/2 storage pods caught up with their peers: ${n.pod('storage', 0)} did not answer \\(.+\\); ` +
          `${n.pod('storage', 1)} did not answer \\(.+\\)$`,
      ),
    );
    expect(condition(cluster, 'CoreReady')).toMatchObject({ message: '1/1 core pods ready' });
    expect(condition(cluster, 'Ready')).toMatchObject({ status: 'False', reason: 'StorageCatchingUp' });
    expect(cluster.status).toMatchObject({ core: { ready: '1/1' }, storage: { ready: '0/2' }, replicas: 2 });
  });

  it('`kubectl describe dsmcluster` shows the Events the operator recorded', async () => {
    const text = await waitFor('Events in kubectl describe', async () => {
      const { stdout } = await kubectl(['describe', 'dsmcluster', NAME, '-n', namespace]);
      return /StorageCatchingUp/.test(stdout.slice(stdout.indexOf('Events:'))) ? stdout : undefined;
    });
    const events = text.slice(text.indexOf('Events:'));
    expect(events).toMatch(/Type\s+Reason\s+Age\s+From\s+Message/);
    expect(events).toMatch(/Normal\s+StorageCatchingUp\s+\S+\s+dsm\.io\/operator\s+StorageReady False: /);
    expect(events).toMatch(
      /Normal\s+AllReplicasReady\s+\S+\s+dsm\.io\/operator\s+CoreReady True: 1\/1 core pods ready/,
    );
  });

  it('/metrics: the leader counts reconciles and says it leads; the standby says it does not', async () => {
    expect(sum(await metric(leader, 'dsm_operator_reconcile_total'))).toBeGreaterThan(0);
    expect(await metric(leader, 'dsm_operator_is_leader')).toEqual([1]);
    expect(await metric(standby, 'dsm_operator_is_leader')).toEqual([0]);
    expect(sum(await metric(standby, 'dsm_operator_reconcile_total'))).toBe(0);
  });

  it('SIGKILL of the leader right after a spec change: the standby takes the Lease within the lease duration and converges the change', async () => {
    const before = (await read(NAME)).metadata.generation!;
    await custom.patchNamespacedCustomObject(
      {
        ...API,
        namespace,
        name: NAME,
        body: { spec: { storage: { replicas: 3 }, core: { policyTtl: 1234 } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    // The leader's watch brings the change at once: it is killed while it acts on it (or about to).
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await waitFor(
      'the standby to take the Lease',
      async () => (await holder())?.startsWith(`${standby.name}_`) === true,
      LEASE_MS + 5000,
      50,
    );
    // The Lease was last renewed before the kill: it ran out within LEASE_MS (+ one retry period, polling).
    expect(Date.now() - killedAt).toBeLessThanOrEqual(LEASE_MS + 1500);

    await waitFor(
      'the new leader to converge the change',
      async () => {
        const [cluster, sts, cm] = await Promise.all([
          read(NAME),
          apps.readNamespacedStatefulSet({ name: n.storage, namespace }),
          core.readNamespacedConfigMap({ name: n.config('core'), namespace }),
        ]);
        return (
          cluster.status?.observedGeneration === before + 1 &&
          sts.spec?.replicas === 3 &&
          Object.values(cm.data ?? {}).some((text) => /"policyTtl": 1234\b/.test(text))
        );
      },
      60_000,
    );
    // The new pod is counted as soon as it is ready, and named among the storage pods not answering.
    await waitFor(`pod ${n.pod('storage', 2)}`, async () => (await pod(n.pod('storage', 2))) !== undefined);
    await setPodReady(namespace, n.pod('storage', 2));
    await waitFor('StorageReady to name the third pod', async () => {
      const storage = condition(await read(NAME), 'StorageReady');
      return (
        storage?.message.startsWith('0/3 storage pods caught up with their peers: ') === true &&
        storage.message.includes(`${n.pod('storage', 2)} did not answer`)
      );
    });
    expect(await metric(standby, 'dsm_operator_is_leader')).toEqual([1]);
    expect(sum(await metric(standby, 'dsm_operator_reconcile_total'))).toBeGreaterThan(0);
  });
});
