/**
 * What the in-process reconciler tests share: a namespace of their own with the DSMCluster CRD, the
 * informers' cache of the controller package watching it, the reconciler with the storage probe's
 * addresses injected (real storage node processes on 127.0.0.1 stand in for the storage pods, named as
 * the pods), an in-memory Event recorder, and what a kubelet would do (this layer has none): pods made
 * ready by hand, pods of a new revision brought up during a roll.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { createLogger } from '@dsm/runtime/log';
import { createMetricsRegistry } from '@dsm/runtime/metrics';
import { freePort, StorageProcess } from '@dsm/testkit';
import { names, type ConditionType, type DSMCluster } from '@dsm/cdk8s';
import { Informers } from '../../src/controller/informers.js';
import type { ClusterKey, ControllerContext, EventRecorder } from '../../src/controller/types.js';
import { createOperatorMetrics, type OperatorMetrics } from '../../src/metrics.js';
import { derivePeerToken } from '../../src/peer-token.js';
import { createReconciler } from '../../src/reconcile/index.js';
import { freshNamespace, installCrd, kubeConfig, setPodReady, waitFor } from '../../../e2e/cluster/kube.js';

export const API = { group: 'dsm.io', version: 'v1alpha1', plural: 'dsmclusters' } as const;

export interface RecordedEvent {
  cluster: string;
  type: string;
  reason: string;
  message: string;
}

export class Harness {
  readonly config = kubeConfig();
  readonly objects = k8s.KubernetesObjectApi.makeApiClient(this.config);
  readonly custom = this.config.makeApiClient(k8s.CustomObjectsApi);
  readonly core = this.config.makeApiClient(k8s.CoreV1Api);
  readonly apps = this.config.makeApiClient(k8s.AppsV1Api);
  readonly metrics: OperatorMetrics = createOperatorMetrics(createMetricsRegistry());
  readonly events: RecordedEvent[] = [];
  /** The operator key the reconciler derives peer tokens from (main.ts reads it from its Secret). */
  readonly operatorKey = randomBytes(32);
  /** Storage node processes by pod name (node id = pod name). */
  readonly storage = new Map<string, StorageProcess>();
  private readonly root = mkdtempSync(join(tmpdir(), 'dsm-operator-'));
  informers!: Informers;
  reconciler!: ReturnType<typeof createReconciler>;

  private constructor(readonly namespace: string) {}

  /** A fresh namespace, the CRD, synced informers and a reconciler whose probe reaches `storage`. */
  static async start(prefix: string, options: { capabilityCheckMs?: number } = {}): Promise<Harness> {
    const harness = new Harness(await freshNamespace(prefix));
    await harness.init(options);
    return harness;
  }

  private async init(options: { capabilityCheckMs?: number }): Promise<void> {
    await installCrd();
    const log = createLogger({
      service: 'operator-test',
      level: (process.env.DSM_TEST_LOG_LEVEL as 'warn' | undefined) ?? 'warn',
    });
    const { config: kc, namespace, metrics } = this;
    this.informers = new Informers({ kubeConfig: kc, namespaces: [namespace], log, metrics, ...options });
    await this.informers.start();
    await waitFor('informers to list', async () => this.informers.hasSynced());
    const recorder: EventRecorder = {
      event: async (cluster, type, reason, message) => {
        this.events.push({ cluster: cluster.metadata.name, type, reason, message });
      },
    };
    const context: ControllerContext = {
      kubeConfig: kc,
      cache: this.informers,
      capabilities: () => this.informers.capabilities(),
      metrics,
      log,
      events: recorder,
    };
    this.reconciler = createReconciler(context, {
      operatorKey: this.operatorKey,
      storageUrl: ({ pod }) => this.storage.get(pod)?.url ?? 'http://127.0.0.1:9',
      storagePeerAddress: ({ pod }) => this.storage.get(pod)?.address ?? '127.0.0.1:9',
      probeTimeoutMs: 1500,
      requeueAfterMs: 500,
    });
  }

  async stop(): Promise<void> {
    this.informers?.stop();
    await Promise.all([...this.storage.values()].map((p) => p.kill()));
    rmSync(this.root, { recursive: true, force: true });
  }

  key(name: string): ClusterKey {
    return { namespace: this.namespace, name };
  }

  cached(name: string): DSMCluster | undefined {
    return this.informers.get('DSMCluster', this.namespace, name);
  }

  condition(name: string, type: ConditionType) {
    return this.cached(name)?.status?.conditions?.find((c) => c.type === type);
  }

  /** API writes the reconciler made so far (every kind, every verb). */
  async writes(): Promise<number> {
    const { values } = await this.metrics.apiWrites.get();
    return values.reduce((sum, v) => sum + v.value, 0);
  }

  /** Reconciles (letting the watch bring each write back into the cache) until `done` holds. */
  async reconcileUntil(
    name: string,
    what: string,
    done: () => boolean | Promise<boolean>,
    timeoutMs = 60_000,
  ): Promise<void> {
    await waitFor(
      what,
      async () => {
        await this.reconciler.reconcile(this.key(name));
        await new Promise((r) => setTimeout(r, 300));
        return done();
      },
      timeoutMs,
      0,
    );
  }

  async createCluster(name: string, spec: object): Promise<DSMCluster> {
    await this.custom.createNamespacedCustomObject({
      ...API,
      namespace: this.namespace,
      body: { apiVersion: 'dsm.io/v1alpha1', kind: 'DSMCluster', metadata: { name }, spec },
    });
    return waitFor(`${name} in the cache`, async () => this.cached(name));
  }

  async deleteCluster(name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ ...API, namespace: this.namespace, name });
  }

  async patchSpec(name: string, spec: object): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { ...API, namespace: this.namespace, name, body: { spec } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  /** The storage peer token the reconciler derives for `cluster` (what its peer-token Secret holds). */
  peerToken(cluster: string): string {
    const uid = this.cached(cluster)?.metadata.uid;
    if (uid === undefined) throw new Error(`${cluster} is not in the cache`);
    return derivePeerToken(this.operatorKey, { namespace: this.namespace, name: cluster, uid });
  }

  /**
   * Storage node processes for pods 0..count-1 of `cluster` (not started), each listing the others, with
   * the cluster's peer token as their pods would have (the operator changes their peers with it).
   */
  async startStorage(cluster: string, count: number, token: string): Promise<void> {
    const n = names(cluster);
    const mine = () => [...this.storage.entries()].filter(([pod]) => pod.startsWith(`${n.storage}-`));
    for (let i = mine().length; i < count; i++) {
      const pod = n.pod('storage', i);
      const node = new StorageProcess(pod, await freePort(), join(this.root, pod), [], token);
      node.peerToken = this.peerToken(cluster);
      this.storage.set(pod, node);
    }
    const processes = mine().map(([, p]) => p);
    for (const p of processes) p.peers = processes.filter((o) => o !== p).map((o) => o.address);
  }

  async adminToken(cluster: string): Promise<string> {
    const secret = await this.core.readNamespacedSecret({
      name: names(cluster).adminToken,
      namespace: this.namespace,
    });
    return Buffer.from(secret.data!.token!, 'base64').toString('utf8');
  }

  async pod(name: string): Promise<k8s.V1Pod | undefined> {
    return this.core.readNamespacedPod({ name, namespace: this.namespace }).catch(() => undefined);
  }

  /** Waits for the pod to exist, then marks it Running and Ready as its kubelet would. */
  async podReady(name: string, ready = true): Promise<void> {
    await waitFor(`pod ${name}`, async () => (await this.pod(name)) !== undefined);
    await setPodReady(this.namespace, name, ready);
  }

  /**
   * What a kubelet does for a StatefulSet roll, up to the new pod's start: the controller replaces the pod
   * with one of the new revision (a pod never bound to a node goes at once); it is not ready yet.
   */
  async recreatePod(statefulSet: string, pod: string): Promise<void> {
    const namespace = this.namespace;
    await waitFor(`${pod} recreated from the new revision of ${statefulSet}`, async () => {
      const sts = await this.apps.readNamespacedStatefulSet({ name: statefulSet, namespace });
      const live = await this.pod(pod);
      const { currentRevision, updateRevision } = sts.status ?? {};
      if (!updateRevision || currentRevision === updateRevision || !live) return false;
      if (live.metadata?.labels?.['controller-revision-hash'] === updateRevision)
        return !live.metadata.deletionTimestamp;
      // Still the old revision (bound pods wait for their kubelet): finish its termination.
      await this.core
        .deleteNamespacedPod({ name: pod, namespace, gracePeriodSeconds: 0 })
        .catch(() => undefined);
      return false;
    });
  }

  /** A StatefulSet pod rolled onto the new revision and ready. */
  async rollPod(statefulSet: string, pod: string): Promise<void> {
    await this.recreatePod(statefulSet, pod);
    await setPodReady(this.namespace, pod);
  }

  async stsReplicas(name: string): Promise<number | undefined> {
    return (await this.apps.readNamespacedStatefulSet({ name, namespace: this.namespace })).spec?.replicas;
  }
}
