/**
 * The reconciler in-process against a real kube-apiserver and kube-controller-manager (no kubelet: pod
 * readiness is set by hand), with the informers' cache of the controller package and real storage node
 * processes on 127.0.0.1 standing in for the storage pods (the probe's addresses are injected).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as k8s from '@kubernetes/client-node';
import { desiredObjects, dsmClusterSpecSchema, names, type ConditionType, type DSMCluster } from '@dsm/cdk8s';
import { deleteNamespace, setPodReady, waitFor } from '../../../e2e/cluster/kube.js';
import { Harness } from './harness.js';

const NAME = 'demo';
const n = names(NAME);

let h: Harness;
let namespace: string;
let objects: k8s.KubernetesObjectApi;
let custom: k8s.CustomObjectsApi;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let events: Harness['events'];
let storage: Harness['storage'];
let informers: Harness['informers'];
let reconciler: Harness['reconciler'];

const key = () => h.key(NAME);
const writes = () => h.writes();
const cached = () => h.cached(NAME);
const condition = (type: ConditionType) => h.condition(NAME, type);
const reconcileUntil = (what: string, done: () => boolean | Promise<boolean>, timeoutMs?: number) =>
  h.reconcileUntil(NAME, what, done, timeoutMs);
const patchSpec = (spec: object) => h.patchSpec(NAME, spec);
const startStorage = (count: number, token: string) => h.startStorage(NAME, count, token);
const adminToken = () => h.adminToken(NAME);
const rollPod = (statefulSet: string, pod: string) => h.rollPod(statefulSet, pod);
const stsReplicas = (name: string) => h.stsReplicas(name);

beforeAll(async () => {
  h = await Harness.start('reconcile');
  ({ namespace, objects, custom, core, apps, events, storage, informers, reconciler } = h);
});

afterAll(async () => {
  await h?.stop();
  if (namespace) await deleteNamespace(namespace);
});

describe('the reconciler against a real apiserver', () => {
  let uid: string;

  it('applies a DSMCluster: every desired object exists, owned by the cluster, managed by dsm-operator', async () => {
    await custom.createNamespacedCustomObject({
      group: 'dsm.io',
      version: 'v1alpha1',
      namespace,
      plural: 'dsmclusters',
      body: {
        apiVersion: 'dsm.io/v1alpha1',
        kind: 'DSMCluster',
        metadata: { name: NAME },
        spec: { version: '1.0.0', storage: { replicas: 2 }, core: { replicas: 1 } },
      },
    });
    await waitFor('the cluster in the cache', async () => cached() !== undefined);
    const cluster = cached()!;
    uid = cluster.metadata.uid!;
    await reconciler.reconcile(key());
    const spec = dsmClusterSpecSchema.parse(cluster.spec);
    const expected = desiredObjects({ ...cluster, spec } as DSMCluster, {
      capabilities: { serviceMonitor: false, prometheusRule: false },
    });
    expect(expected.length).toBeGreaterThan(8);
    for (const object of expected) {
      const live = await objects.read(object as k8s.KubernetesObject & { metadata: { name: string } });
      const what = `${object.kind}/${object.metadata.name}`;
      expect([
        what,
        live.metadata?.managedFields?.some((f) => f.manager === 'dsm-operator' && f.operation === 'Apply'),
      ]).toEqual([what, true]);
      const retained = object.metadata.annotations?.['dsm.io/reclaim-policy'] === 'Retain';
      if (!retained) expect([what, live.metadata?.ownerReferences?.[0]?.uid]).toEqual([what, uid]);
    }
    for (const secret of [n.adminToken, n.apiToken, n.keystoreKey, n.peerToken])
      expect((await core.readNamespacedSecret({ name: secret, namespace })).data).toBeDefined();
    await waitFor(
      'a first status',
      async () => cached()?.status?.observedGeneration === cluster.metadata.generation,
    );
    expect(condition('StorageReady')).toMatchObject({ status: 'False', reason: 'WaitingForPods' });
    expect(condition('Ready')).toMatchObject({ status: 'False' });
  });

  it('conditions follow readiness: pods ready and storage caught up make the cluster Ready', async () => {
    await startStorage(2, await adminToken());
    await Promise.all([...storage.values()].map((p) => p.start()));
    for (const pod of [n.pod('storage', 0), n.pod('storage', 1), n.pod('core', 0)]) {
      await waitFor(
        `pod ${pod}`,
        async () =>
          (await core.readNamespacedPod({ name: pod, namespace }).catch(() => undefined)) !== undefined,
      );
      await setPodReady(namespace, pod);
    }
    // Ready, and the version every component runs recorded with it.
    await reconcileUntil(
      'Ready',
      () => condition('Ready')?.status === 'True' && cached()?.status?.version === '1.0.0',
    );
    expect(condition('StorageReady')).toMatchObject({
      status: 'True',
      reason: 'AllReplicasReady',
      message: '2/2 storage pods ready and caught up with their peers',
    });
    expect(condition('CoreReady')).toMatchObject({ status: 'True', message: '1/1 core pods ready' });
    expect(condition('BridgeReady')).toMatchObject({ status: 'True', reason: 'BridgeDisabled' });
    expect(cached()?.status).toMatchObject({
      phase: 'Ready',
      version: '1.0.0',
      storage: { ready: '2/2' },
      core: { ready: '1/1' },
      replicas: 2,
    });
    expect(events.some((e) => e.reason === 'AllComponentsReady')).toBe(true);

    await setPodReady(namespace, n.pod('core', 0), false);
    await reconcileUntil('CoreReady False', () => condition('CoreReady')?.status === 'False');
    expect(condition('CoreReady')?.message).toBe(
      `0/1 core pods ready; waiting for ${n.pod('core', 0)} (not ready)`,
    );
    expect(events.some((e) => e.type === 'Warning' && e.message.startsWith('CoreReady False'))).toBe(true);
    await setPodReady(namespace, n.pod('core', 0));
    await reconcileUntil('Ready again', () => condition('Ready')?.status === 'True');
  });

  it('once converged, a resync writes nothing', async () => {
    await reconcileUntil('a reconcile without writes', async () => {
      const before = await writes();
      await reconciler.reconcile(key());
      return (await writes()) === before;
    });
    await new Promise((r) => setTimeout(r, 1500));
    const before = await writes();
    for (let i = 0; i < 3; i++) await reconciler.reconcile(key());
    expect((await writes()) - before).toBe(0);
  });

  it('restores a deleted child', async () => {
    await core.deleteNamespacedService({ name: n.core, namespace });
    await waitFor(
      'the cache to lose the Service',
      async () => informers.get('Service', namespace, n.core) === undefined,
    );
    await reconciler.reconcile(key());
    const restored = await core.readNamespacedService({ name: n.core, namespace });
    expect(restored.metadata?.ownerReferences?.[0]?.uid).toBe(uid);
  });

  it('recreates a generated Secret deleted by hand on the next resync (an event-triggered reconcile only remembers it)', async () => {
    const secretCreates = async () =>
      (await h.metrics.apiWrites.get()).values
        .filter((v) => v.labels.verb === 'create' && v.labels.kind === 'Secret')
        .reduce((sum, v) => sum + v.value, 0);
    const exists = () =>
      core.readNamespacedSecret({ name: n.apiToken, namespace }).then(
        () => true,
        () => false,
      );
    await core.deleteNamespacedSecret({ name: n.apiToken, namespace });
    await reconciler.reconcile(key());
    expect(await exists()).toBe(false);
    const before = await secretCreates();
    await reconciler.reconcile(key(), { resync: true });
    expect(await exists()).toBe(true);
    // The other generated Secrets were created too, each answered 409: not counted as writes.
    expect((await secretCreates()) - before).toBe(1);
  });

  it('applies a spec change (core.policyTtl) to the ConfigMap', async () => {
    await patchSpec({ core: { policyTtl: 1234 } });
    await reconcileUntil('the new policyTtl', async () => {
      const cm = await core.readNamespacedConfigMap({ name: n.config('core'), namespace });
      return Object.values(cm.data ?? {}).some((text) => /"policyTtl": 1234\b/.test(text));
    });
    // The config digest in the pod template rolls the core pod onto the new settings.
    await reconcileUntil('the core roll to start', () => condition('Progressing')?.reason === 'RollingCore');
    await rollPod(n.core, n.pod('core', 0));
    await reconcileUntil(
      'Ready after the roll',
      () => condition('Ready')?.status === 'True' && condition('Progressing')?.status === 'False',
    );
  });

  it('scales storage up; refuses to scale down while a leaving pod holds data the others have not; allows it once caught up', async () => {
    await startStorage(3, await adminToken());
    const third = storage.get(n.pod('storage', 2))!;
    // Its replication routes refuse the others: they cannot take what it holds.
    third.peerToken = 'a token the others do not have';
    await third.start();
    await patchSpec({ storage: { replicas: 3 } });
    await reconcileUntil('3 storage replicas', async () => (await stsReplicas(n.storage)) === 3);
    await waitFor(
      'pod 2',
      async () =>
        (await core.readNamespacedPod({ name: n.pod('storage', 2), namespace }).catch(() => undefined)) !==
        undefined,
    );
    await setPodReady(namespace, n.pod('storage', 2));

    await patchSpec({ storage: { replicas: 2 } });
    await reconcileUntil('ScaleDownRefused', () => condition('Degraded')?.reason === 'ScaleDownRefused');
    expect(await stsReplicas(n.storage)).toBe(3);
    expect(condition('Degraded')?.message).toMatch(
      new RegExp(
        `^not removing storage pod ${n.pod('storage', 2)}: its data is on 0 of the 2 remaining pods`,
      ),
    );
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'ScaleDownRefused' });
    // Several more looks change nothing: fail closed.
    for (let i = 0; i < 3; i++) await reconciler.reconcile(key());
    expect(await stsReplicas(n.storage)).toBe(3);

    await third.kill();
    third.peerToken = h.peerToken(NAME);
    await third.start();
    await reconcileUntil('the scale-down', async () => (await stsReplicas(n.storage)) === 2, 90_000);
    expect(events.some((e) => e.reason === 'ScaleDownRefused' && e.type === 'Warning')).toBe(true);
  });

  it('deleting the cluster lets the garbage collector remove its children; retained volumes stay', async () => {
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace });
    const storageClaims = claims.items.map((c) => c.metadata!.name!).filter((c) => c.includes(n.storage));
    expect(storageClaims.length).toBeGreaterThan(0);
    await custom.deleteNamespacedCustomObject({
      group: 'dsm.io',
      version: 'v1alpha1',
      namespace,
      plural: 'dsmclusters',
      name: NAME,
    });
    await waitFor('the cache to lose the cluster', async () => cached() === undefined);
    expect(await reconciler.reconcile(key())).toEqual({});
    await waitFor(
      'the StatefulSets, Services and ConfigMaps to go',
      async () => {
        const [sts, svc, cms] = await Promise.all([
          apps.listNamespacedStatefulSet({ namespace }),
          core.listNamespacedService({ namespace }),
          core.listNamespacedConfigMap({ namespace, labelSelector: `dsm.io/cluster=${NAME}` }),
        ]);
        return sts.items.length === 0 && svc.items.length === 0 && cms.items.length === 0;
      },
      90_000,
    );
    const left = (await core.listNamespacedPersistentVolumeClaim({ namespace })).items.map(
      (c) => c.metadata!.name!,
    );
    // spec.storage.volume.reclaimPolicy defaults to Retain.
    for (const claim of storageClaims) expect(left).toContain(claim);
  });
});
