/**
 * The operator's informers against a real apiserver: they list and watch DSMClusters and the objects the
 * clusters own, map each event to its cluster, cache only labelled children, and restart by themselves when
 * their watch breaks: the connection to the apiserver cut (through a proxy the test controls), or the
 * DSMCluster CRD deleted and created again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { createLogger } from '@dsm/runtime/log';
import { createMetricsRegistry } from '@dsm/runtime/metrics';
import {
  deleteNamespace,
  freshNamespace,
  installCrd,
  kubeConfig,
  waitFor,
} from '../../../e2e/cluster/kube.js';
import { Informers } from '../../src/controller/informers.js';
import { keyString } from '../../src/controller/types.js';
import { createOperatorMetrics, type OperatorMetrics } from '../../src/metrics.js';

const log = createLogger({
  service: 'informers-test',
  level: process.env.DSM_TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent',
});
const FAST = { baseMs: 100, maxMs: 1000, jitter: 0.2 };

let namespace: string;
const running: Informers[] = [];

function cluster(name: string) {
  return {
    apiVersion: 'dsm.io/v1alpha1',
    kind: 'DSMCluster',
    metadata: { name, namespace },
    spec: { version: '0.1.0' },
  };
}

async function createCluster(name: string): Promise<k8s.KubernetesObject> {
  return kubeConfig()
    .makeApiClient(k8s.CustomObjectsApi)
    .createNamespacedCustomObject({
      group: 'dsm.io',
      version: 'v1alpha1',
      namespace,
      plural: 'dsmclusters',
      body: cluster(name),
    }) as Promise<k8s.KubernetesObject>;
}

function configMap(
  name: string,
  labels: Record<string, string>,
  owner?: k8s.KubernetesObject,
): k8s.V1ConfigMap {
  return {
    metadata: {
      name,
      namespace,
      labels,
      ownerReferences: owner
        ? [
            {
              apiVersion: 'dsm.io/v1alpha1',
              kind: 'DSMCluster',
              name: owner.metadata!.name!,
              uid: owner.metadata!.uid!,
              controller: true,
            },
          ]
        : undefined,
    },
    data: { a: '1' },
  };
}

function startInformers(config: k8s.KubeConfig, metrics: OperatorMetrics) {
  const informers = new Informers({
    kubeConfig: config,
    namespaces: [namespace],
    log,
    metrics,
    backoff: FAST,
  });
  const keys: string[] = [];
  informers.onEvent((kind, _verb, object) => {
    const key = object.metadata?.namespace && object.metadata.name ? `${kind}:${object.metadata.name}` : '';
    keys.push(key);
  });
  running.push(informers);
  return { informers, keys };
}

const restarts = async (metrics: OperatorMetrics, kind: string) =>
  (await metrics.informerRestarts.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;

/** A TCP proxy to the apiserver that the test can cut and refuse. */
class Proxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Cuts every connection and refuses new ones until `open` again. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

beforeAll(async () => {
  await installCrd();
  namespace = await freshNamespace('informers');
});

afterAll(async () => {
  for (const informers of running) informers.stop();
  await deleteNamespace(namespace);
});

describe('informers', () => {
  it('see DSMClusters and owned objects, map them to their cluster, and cache only labelled children', async () => {
    const metrics = createOperatorMetrics(createMetricsRegistry({ defaultMetrics: false }));
    const { informers } = startInformers(kubeConfig(), metrics);
    const seen = new Set<string>();
    const { clusterKeyOf } = await import('../../src/controller/informers.js');
    informers.onEvent((kind, _verb, object) => {
      const key = clusterKeyOf(kind, object);
      if (key) seen.add(`${kind}→${keyString(key)}`);
    });
    await informers.start();
    await waitFor('informers to sync', async () => informers.hasSynced(), 30_000);
    expect(informers.capabilities()).toEqual({ serviceMonitor: false, prometheusRule: false });

    const dsm = await createCluster('alpha');
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace,
      body: configMap('alpha-owned', { 'dsm.io/cluster': 'alpha' }, dsm),
    });
    await core.createNamespacedConfigMap({
      namespace,
      body: configMap('alpha-labelled', { 'dsm.io/cluster': 'alpha' }),
    });
    await core.createNamespacedConfigMap({ namespace, body: configMap('stranger', {}) });

    await waitFor('events of the cluster and its children', async () =>
      ['DSMCluster', 'ConfigMap'].every((k) => seen.has(`${k}→${namespace}/alpha`)),
    );
    expect(informers.get('DSMCluster', namespace, 'alpha')?.metadata.name).toBe('alpha');
    await waitFor('both children cached', async () => informers.list('ConfigMap', namespace).length === 2);
    expect(
      informers
        .list('ConfigMap', namespace, { 'dsm.io/cluster': 'alpha' })
        .map((c) => c.metadata?.name)
        .sort(),
    ).toEqual(['alpha-labelled', 'alpha-owned']);
    expect(informers.get('ConfigMap', namespace, 'stranger')).toBeUndefined();
    // Timestamps stay the apiserver's strings whether an object came from the list or a watch event.
    expect(typeof informers.get('DSMCluster', namespace, 'alpha')?.metadata).toBe('object');
  });

  it('restart by themselves after the connection to the apiserver is cut and refused for a while', async () => {
    const base = kubeConfig();
    const target = new URL(base.getCurrentCluster()!.server);
    const proxy = new Proxy(target);
    await proxy.open();
    const config = new k8s.KubeConfig();
    config.loadFromOptions({
      clusters: [
        {
          ...base.getCurrentCluster()!,
          server: `https://127.0.0.1:${proxy.port}`,
          tlsServerName: 'localhost',
        },
      ],
      users: [base.getCurrentUser()!],
      contexts: [
        { name: 'proxy', cluster: base.getCurrentCluster()!.name, user: base.getCurrentUser()!.name },
      ],
      currentContext: 'proxy',
    });
    const metrics = createOperatorMetrics(createMetricsRegistry({ defaultMetrics: false }));
    const { informers, keys } = startInformers(config, metrics);
    await informers.start();
    await waitFor('informers to sync through the proxy', async () => informers.hasSynced(), 30_000);

    await proxy.cut();
    await new Promise((r) => setTimeout(r, 1500));
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace,
      body: configMap('made-while-cut', { 'dsm.io/cluster': 'alpha' }),
    });
    await proxy.open();

    await waitFor(
      'the ConfigMap made while cut to reach the cache',
      async () => informers.get('ConfigMap', namespace, 'made-while-cut') !== undefined,
    );
    expect(keys).toContain('ConfigMap:made-while-cut');
    expect(await restarts(metrics, 'ConfigMap')).toBeGreaterThan(0);
    informers.stop();
    await proxy.cut();
  });

  it('restart by themselves after the DSMCluster CRD is deleted and created again', async () => {
    const metrics = createOperatorMetrics(createMetricsRegistry({ defaultMetrics: false }));
    const { informers } = startInformers(kubeConfig(), metrics);
    await informers.start();
    await waitFor('informers to sync', async () => informers.hasSynced(), 30_000);
    await waitFor('alpha cached', async () => informers.get('DSMCluster', namespace, 'alpha') !== undefined);

    const ext = kubeConfig().makeApiClient(k8s.ApiextensionsV1Api);
    await ext.deleteCustomResourceDefinition({ name: 'dsmclusters.dsm.io' });
    await waitFor(
      'the CRD to be gone',
      async () =>
        await ext.readCustomResourceDefinition({ name: 'dsmclusters.dsm.io' }).then(
          () => false,
          () => true,
        ),
      60_000,
    );
    await waitFor(
      'the DSMCluster informer to fail and restart',
      async () => (await restarts(metrics, 'DSMCluster')) > 0,
      30_000,
    );
    await installCrd();
    await createCluster('beta');
    await waitFor(
      'the informer to see a DSMCluster made after the CRD came back',
      async () => informers.get('DSMCluster', namespace, 'beta') !== undefined,
      60_000,
    );
    // The cluster that went with the old CRD is gone from the cache too.
    await waitFor(
      'alpha to leave the cache',
      async () => informers.get('DSMCluster', namespace, 'alpha') === undefined,
      30_000,
    );
  });
});
