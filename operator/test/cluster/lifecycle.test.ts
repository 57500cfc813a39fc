/**
 * A DSMCluster's life with the reconciler in-process against a real kube-apiserver and
 * kube-controller-manager (harness.ts: real storage node processes stand in for the storage pods, the test
 * plays the kubelet): scaling storage up (the new node joins the running ones' peer lists and counts as
 * ready only once caught up), a version upgrade rolled storage pod by pod (each updated, ready and caught
 * up before the next), then core, then the bridge, and deletion honouring the volumes' reclaim policy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as k8s from '@kubernetes/client-node';
import { LABELS, names } from '@dsm/cdk8s';
import { deleteNamespace, setPodReady, waitFor } from '../../../e2e/cluster/kube.js';
import { Harness } from './harness.js';

let h: Harness;
let namespace: string;

beforeAll(async () => {
  h = await Harness.start('lifecycle');
  namespace = h.namespace;
});

afterAll(async () => {
  await h?.stop();
  if (namespace) await deleteNamespace(namespace);
});

/** The addresses a storage process lists as its peers (`GET /v1/admin/peers`). */
async function peersOf(pod: string): Promise<string[]> {
  const res = await h.storage.get(pod)!.admin('/v1/admin/peers');
  const body = (await res.json()) as { peers: { address: string }[] };
  return body.peers.map((p) => p.address);
}

const adminTokenOf = (cluster: string) =>
  waitFor(`the admin token Secret of ${cluster}`, () => h.adminToken(cluster).catch(() => undefined));

describe('scaling storage up', () => {
  const NAME = 'grow';
  const n = names(NAME);
  const pods = [0, 1, 2].map((i) => n.pod('storage', i));
  const condition = (type: Parameters<Harness['condition']>[1]) => h.condition(NAME, type);
  // Nodes 0 and 1 require a peer token on their replication routes; node 2 starts without one, so its
  // pulls are refused (it cannot catch up) while theirs from it succeed.
  const PEER_TOKEN = 'grow-peer-token';

  it('2 → 3: the new pod joins the running nodes as a peer; StorageReady stays False (catching up) until it reports itself caught up', async () => {
    await h.createCluster(NAME, { version: '1.0.0', storage: { replicas: 2 }, core: { replicas: 1 } });
    await h.reconciler.reconcile(h.key(NAME));
    const token = await adminTokenOf(NAME);
    await h.startStorage(NAME, 2, token);
    // The cluster's peer token where the harness gives the nodes one, else one of the test's.
    const clusterToken = h.storage.get(pods[0]!)!.peerToken ?? PEER_TOKEN;
    for (const pod of pods.slice(0, 2)) {
      h.storage.get(pod)!.peerToken = clusterToken;
      await h.storage.get(pod)!.start();
    }
    for (const pod of [...pods.slice(0, 2), n.pod('core', 0)]) await h.podReady(pod);
    await h.reconcileUntil(NAME, 'Ready with 2 storage nodes', () => condition('Ready')?.status === 'True');

    await h.startStorage(NAME, 3, token);
    const third = h.storage.get(pods[2]!)!;
    third.peerToken = undefined;
    await third.start();
    // The running nodes were started with each other only.
    for (const pod of pods.slice(0, 2)) expect(await peersOf(pod)).not.toContain(third.address);

    await h.patchSpec(NAME, { storage: { replicas: 3 } });
    await h.reconcileUntil(NAME, '3 storage replicas', async () => (await h.stsReplicas(n.storage)) === 3);
    await waitFor(`pod ${pods[2]}`, async () => (await h.pod(pods[2]!)) !== undefined);
    await h.reconcileUntil(NAME, 'StorageReady False, waiting for the new pod', () => {
      const c = condition('StorageReady');
      return c?.status === 'False' && c.reason === 'WaitingForPods' && c.message.includes(pods[2]!);
    });
    // ScalingStorageUp names the reconcile that raised the replicas (its Event, below); then what it waits for.
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'WaitingForPods' });

    await h.podReady(pods[2]!);
    // The operator adds the new pod to the running nodes' peer lists (at run time: no restart).
    await h.reconcileUntil(NAME, 'the running nodes to list the new pod', async () => {
      const lists = await Promise.all(pods.slice(0, 2).map(peersOf));
      return lists.every((list) => list.includes(third.address));
    });
    const catchingUp = `2/3 storage pods caught up with their peers: ${pods[2]} `;
    await h.reconcileUntil(
      NAME,
      'StorageReady False while the new node catches up',
      () => condition('StorageReady')?.message.startsWith(catchingUp) === true,
    );
    // However often it looks: not ready while the new node has not taken what the others hold.
    for (let i = 0; i < 4; i++) {
      await h.reconciler.reconcile(h.key(NAME));
      await new Promise((r) => setTimeout(r, 300));
      const storageReady = condition('StorageReady')!;
      expect(storageReady).toMatchObject({ status: 'False', reason: 'StorageCatchingUp' });
      expect(storageReady.message).toMatch(
        new RegExp(`^${catchingUp}(failed its last sync with|sees) ${n.storage}-[01]`),
      );
      expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'StorageCatchingUp' });
      expect(h.cached(NAME)?.status?.storage).toMatchObject({ replicas: 3, readyReplicas: 2, ready: '2/3' });
    }
    for (const pod of pods.slice(0, 2)) expect(await peersOf(pod)).toContain(third.address);

    // Its pulls are accepted now: it catches up, and only then is storage ready.
    await third.kill();
    third.peerToken = clusterToken;
    await third.start();
    await h.reconcileUntil(NAME, 'StorageReady True', () => condition('StorageReady')?.status === 'True');
    expect(condition('StorageReady')).toMatchObject({
      reason: 'AllReplicasReady',
      message: '3/3 storage pods ready and caught up with their peers',
    });
    await h.reconcileUntil(NAME, 'Ready', () => condition('Ready')?.status === 'True');
    expect(h.cached(NAME)?.status).toMatchObject({ storage: { ready: '3/3' }, replicas: 3, phase: 'Ready' });
    const reasons = h.events.filter((e) => e.cluster === NAME).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['StorageCatchingUp', 'ScalingStorageUp']));
  });
});

describe('a version upgrade', () => {
  const NAME = 'roll';
  const n = names(NAME);
  const EVM_SECRET = 'roll-evm';
  const condition = (type: Parameters<Harness['condition']>[1]) => h.condition(NAME, type);
  const storagePods = [0, 1, 2].map((i) => n.pod('storage', i));
  const corePods = [0, 1].map((i) => n.pod('core', i));

  interface Snapshot {
    partition: number;
    storageTemplate: string | undefined;
    /** Version label and readiness of each storage pod. */
    storage: { version: string | undefined; ready: boolean }[];
    coreTemplate: string | undefined;
    core: { version: string | undefined; ready: boolean }[];
    bridgeTemplate: string | undefined;
    progressing: string | undefined;
    statusVersion: string | undefined;
  }
  const seen: Snapshot[] = [];
  // With the partition at 0 and every pod on the new revision, the message names the pod that holds the roll.
  const LAST_POD =
    '^rolling to 1\\.1\\.0: core waits until every storage pod is updated, ready and caught up \\(waiting for [a-z0-9-]+ to (be ready|catch up with its peers)';
  /** A regular expression alternative of pod names. */
  const oneOf = (pods: string[]) => `(${pods.join('|')})`;

  const versionOf = (o: { metadata?: k8s.V1ObjectMeta } | undefined) => o?.metadata?.labels?.[LABELS.version];
  const templateOf = (o: k8s.V1StatefulSet | k8s.V1Deployment) =>
    o.spec?.template.metadata?.labels?.[LABELS.version];
  const ready = (p: k8s.V1Pod | undefined) =>
    p?.metadata?.deletionTimestamp === undefined &&
    p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

  async function snapshot(): Promise<Snapshot> {
    const [storageSts, coreSts, bridge] = await Promise.all([
      h.apps.readNamespacedStatefulSet({ name: n.storage, namespace }),
      h.apps.readNamespacedStatefulSet({ name: n.core, namespace }),
      h.apps.readNamespacedDeployment({ name: n.bridge, namespace }),
    ]);
    const pods = async (list: string[]) =>
      (await Promise.all(list.map((p) => h.pod(p)))).map((p) => ({ version: versionOf(p), ready: ready(p) }));
    const snap: Snapshot = {
      partition: storageSts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0,
      storageTemplate: templateOf(storageSts),
      storage: await pods(storagePods),
      coreTemplate: templateOf(coreSts),
      core: await pods(corePods),
      bridgeTemplate: templateOf(bridge),
      progressing: condition('Progressing')?.reason,
      statusVersion: h.cached(NAME)?.status?.version,
    };
    seen.push(snap);
    return snap;
  }

  /** Waits for the informers' copy of a pod (what the reconciler sees) to satisfy `check`. */
  const inCache = (what: string, pod: string, check: (p: k8s.V1Pod) => boolean) =>
    waitFor(`the cache to see ${what}`, async () => {
      const cached = h.informers.get('Pod', namespace, pod);
      return cached !== undefined && check(cached);
    });

  /** Reconciles, recording what the cluster looks like after each round, until `done` holds. */
  const step = (what: string, done: (s: Snapshot) => boolean) =>
    h.reconcileUntil(NAME, what, async () => done(await snapshot()), 90_000);

  /** A few more rounds, each checked: what must not move while the test holds a pod back. */
  async function holds(check: (s: Snapshot) => void): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await h.reconciler.reconcile(h.key(NAME));
      await new Promise((r) => setTimeout(r, 300));
      check(await snapshot());
    }
  }

  /** The bridge pod of the Deployment's newest ReplicaSet, once it exists (Recreate: the old one goes first). */
  async function bridgePod(): Promise<string> {
    return waitFor('the bridge pod of the newest ReplicaSet', async () => {
      const deploy = await h.apps.readNamespacedDeployment({ name: n.bridge, namespace });
      const revision = deploy.metadata?.annotations?.['deployment.kubernetes.io/revision'];
      const selector = Object.entries(deploy.spec?.selector.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const sets = await h.apps.listNamespacedReplicaSet({ namespace, labelSelector: selector });
      const newest = sets.items.find(
        (rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision,
      );
      const hash = newest?.metadata?.labels?.['pod-template-hash'];
      if (hash === undefined) return undefined;
      const pods = await h.core.listNamespacedPod({
        namespace,
        labelSelector: `${selector},pod-template-hash=${hash}`,
      });
      return pods.items.find((p) => p.metadata?.deletionTimestamp === undefined)?.metadata?.name;
    });
  }

  it('1.0.0 → 1.1.0 of 3 storage, 2 core and the bridge: storage one pod at a time (updated, ready, caught up), then core, then the bridge', async () => {
    await h.core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: EVM_SECRET },
        stringData: { url: 'http://evm.invalid:8545', 'evm-key': `0x${'11'.repeat(32)}` },
      },
    });
    await h.createCluster(NAME, {
      version: '1.0.0',
      storage: { replicas: 3, replicationFactor: 2 },
      core: { replicas: 2 },
      bridge: {
        enabled: true,
        rpcSecret: { name: EVM_SECRET, key: 'url' },
        signerKeySecret: { name: EVM_SECRET, key: 'evm-key' },
        chainId: 31337,
        contractAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      },
    });
    await h.reconciler.reconcile(h.key(NAME));
    await h.startStorage(NAME, 3, await adminTokenOf(NAME));
    await Promise.all(storagePods.map((p) => h.storage.get(p)!.start()));
    // core is OrderedReady: core-1 appears once core-0 is ready.
    for (const pod of [...storagePods, ...corePods]) await h.podReady(pod);
    await setPodReady(namespace, await bridgePod());
    await h.reconcileUntil(
      NAME,
      'Ready at 1.0.0',
      () => condition('Ready')?.status === 'True' && h.cached(NAME)?.status?.version === '1.0.0',
      90_000,
    );
    const eventsBefore = h.events.length;
    expect(await snapshot()).toMatchObject({
      partition: 0,
      progressing: 'Converged',
      statusVersion: '1.0.0',
    });

    await h.patchSpec(NAME, { version: '1.1.0' });
    const untouched = (s: Snapshot) => {
      expect([s.coreTemplate, s.bridgeTemplate, s.statusVersion]).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    };
    // Storage from the highest ordinal down: the partition moves below a pod only once that pod runs the
    // new version, is ready and has caught up with its peers.
    for (const ordinal of [2, 1, 0]) {
      const pod = storagePods[ordinal]!;
      await step(`the storage partition at ${ordinal}`, (s) => s.partition === ordinal);
      expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'RollingStorage' });
      untouched(seen.at(-1)!);
      // Its node restarts with the pod: down until the test starts it again.
      await h.storage.get(pod)!.kill();
      await h.recreatePod(n.storage, pod);
      await inCache(`${pod} of the new revision`, pod, (p) => versionOf(p) === '1.1.0' && !ready(p));
      await holds((s) => {
        expect([pod, s.partition, s.storage[ordinal]!.version]).toEqual([pod, ordinal, '1.1.0']);
        // The pods below the partition keep the old version.
        expect(s.storage.slice(0, ordinal).map((p) => p.version)).toEqual(Array(ordinal).fill('1.0.0'));
        untouched(s);
        // The highest pod not yet healthy holds the roll: this one, or one above that lost it as a peer.
        expect(condition('Progressing')?.message).toMatch(
          new RegExp(
            `(waiting for (${pod} to be ready|${oneOf(storagePods.slice(ordinal + 1))} to catch up with its peers)|${LAST_POD})`,
          ),
        );
      });
      await setPodReady(namespace, pod);
      await inCache(`${pod} ready`, pod, ready);
      await holds((s) => {
        expect([pod, s.partition]).toEqual([pod, ordinal]);
        untouched(s);
        expect(condition('Progressing')?.message).toMatch(
          new RegExp(
            `(waiting for ${oneOf(storagePods.slice(ordinal))} to catch up with its peers|${LAST_POD})`,
          ),
        );
      });
      await h.storage.get(pod)!.start();
      if (ordinal > 0) await step(`the partition below ${pod}`, (s) => s.partition === ordinal - 1);
    }

    // Core once every storage pod runs 1.1.0, ready and caught up.
    await step('core to roll', (s) => s.coreTemplate === '1.1.0');
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'RollingCore' });
    // core-1 first (the StatefulSet controller's order); the bridge waits while core-0 is still old.
    await h.rollPod(n.core, corePods[1]!);
    await holds((s) => expect([s.bridgeTemplate, s.statusVersion]).toEqual(['1.0.0', '1.0.0']));
    await h.rollPod(n.core, corePods[0]!);

    // The bridge once core has rolled (Recreate: never two bridges at once).
    await step('the bridge to roll', (s) => s.bridgeTemplate === '1.1.0');
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'RollingBridge' });
    await setPodReady(namespace, await bridgePod());
    await step(
      'Ready at 1.1.0',
      (s) =>
        condition('Ready')?.status === 'True' && s.statusVersion === '1.1.0' && s.progressing === 'Converged',
    );

    // Over every observation: core's template moved only with all storage pods on 1.1.0 and ready, the
    // bridge's only with all core pods on 1.1.0 and ready; status.version only at the end.
    for (const s of seen) {
      if (s.coreTemplate === '1.1.0')
        expect(s.storage).toEqual(Array(3).fill({ version: '1.1.0', ready: true }));
      if (s.bridgeTemplate === '1.1.0')
        expect(s.core).toEqual(Array(2).fill({ version: '1.1.0', ready: true }));
      if (s.statusVersion === '1.1.0') expect(s.bridgeTemplate).toBe('1.1.0');
    }
    const partitions = seen.map((s) => s.partition).filter((p, i, all) => i === 0 || all[i - 1] !== p);
    expect(partitions).toEqual([0, 2, 1, 0]);
    const progressing = seen.map((s) => s.progressing).filter((r, i, all) => i === 0 || all[i - 1] !== r);
    const dedup = (reasons: (string | undefined)[]) =>
      reasons.filter((r, i, all) => i === 0 || all[i - 1] !== r);
    // In order, each once; the bridge's roll lasts until its new pod is ready, then the cluster has converged.
    expect(dedup(progressing.filter((r) => r?.startsWith('Rolling')))).toEqual([
      'RollingStorage',
      'RollingCore',
      'RollingBridge',
    ]);
    expect([progressing[0], progressing.at(-1)]).toEqual(['Converged', 'Converged']);
    const afterBridge = progressing.slice(progressing.indexOf('RollingBridge') + 1);
    expect(afterBridge).toEqual(['Converged']);
    expect(h.cached(NAME)?.status).toMatchObject({
      phase: 'Ready',
      version: '1.1.0',
      storage: { ready: '3/3', updatedReplicas: 3 },
      core: { ready: '2/2', updatedReplicas: 2 },
      bridge: { ready: '1/1', enabled: true },
    });
    // An Event for each transition of the roll, in order.
    const rollEvents = h.events
      .slice(eventsBefore)
      .filter((e) => e.cluster === NAME && e.message.startsWith('Progressing '));
    const eventReasons = rollEvents.map((e) => e.reason);
    expect(eventReasons.filter((r) => r.startsWith('Rolling'))).toEqual([
      'RollingStorage',
      'RollingCore',
      'RollingBridge',
    ]);
    expect(eventReasons.at(-1)).toBe('Converged');
    expect(rollEvents[0]!.message).toMatch(/^Progressing True: rolling storage from 1\.0\.0 to 1\.1\.0/);
    expect(rollEvents.every((e) => e.type === 'Normal')).toBe(true);
  });
});

describe('deleting a cluster', () => {
  const NAME = 'gone';
  const n = names(NAME);

  const claims = async () =>
    (await h.core.listNamespacedPersistentVolumeClaim({ namespace })).items.filter((c) =>
      [n.storage, n.core].some((sts) => c.metadata?.name?.includes(`-${sts}-`)),
    );

  it('storage with reclaimPolicy Delete: the garbage collector removes the StatefulSets and their claims; core (Retain) keeps its claims', async () => {
    await h.createCluster(NAME, {
      version: '1.0.0',
      storage: { replicas: 2, volume: { reclaimPolicy: 'Delete' } },
      core: { replicas: 1, volume: { reclaimPolicy: 'Retain' } },
    });
    await h.reconciler.reconcile(h.key(NAME));
    const storageSts = await h.apps.readNamespacedStatefulSet({ name: n.storage, namespace });
    expect(storageSts.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Delete',
      whenScaled: 'Delete',
    });
    expect(
      (await h.apps.readNamespacedStatefulSet({ name: n.core, namespace })).spec
        ?.persistentVolumeClaimRetentionPolicy,
    ).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    // The StatefulSet controller creates a claim per pod; with whenDeleted Delete it makes the StatefulSet
    // their owner, so the garbage collector removes them with it.
    const created = await waitFor('the claims of the 2 storage pods and the core pod', async () => {
      const list = await claims();
      const of = (sts: string) => list.filter((c) => c.metadata!.name!.includes(`-${sts}-`));
      if (of(n.storage).length !== 2 || of(n.core).length !== 1) return undefined;
      const owned = of(n.storage).every((c) =>
        c.metadata?.ownerReferences?.some(
          (o) => o.kind === 'StatefulSet' && o.uid === storageSts.metadata?.uid,
        ),
      );
      return owned ? { storage: of(n.storage), core: of(n.core) } : undefined;
    });
    expect(created.core[0]!.metadata?.ownerReferences ?? []).toEqual([]);
    const storageClaims = created.storage.map((c) => c.metadata!.name!).sort();
    expect(storageClaims).toEqual(
      [0, 1].map((i) => expect.stringMatching(new RegExp(`-${n.pod('storage', i)}$`))),
    );
    const coreClaim = created.core[0]!.metadata!.name!;

    await h.deleteCluster(NAME);
    await waitFor('the cache to lose the cluster', async () => h.cached(NAME) === undefined);
    expect(await h.reconciler.reconcile(h.key(NAME))).toEqual({});
    await waitFor(
      'the StatefulSets and the storage claims to go',
      async () => {
        const [sts, left] = await Promise.all([
          h.apps.listNamespacedStatefulSet({ namespace, labelSelector: `${LABELS.cluster}=${NAME}` }),
          claims(),
        ]);
        const remaining = left.map((c) => c.metadata!.name!);
        return sts.items.length === 0 && storageClaims.every((c) => !remaining.includes(c));
      },
      90_000,
    );
    const coreLeft = await h.core.readNamespacedPersistentVolumeClaim({ name: coreClaim, namespace });
    expect(coreLeft.metadata?.deletionTimestamp).toBeUndefined();
  });
});
