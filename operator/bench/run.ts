/**
 * `npm run bench` for @dsm/operator (issue 11's figures), on a control plane of its own (etcd,
 * kube-apiserver, kube-controller-manager from e2e/cluster; no kubelet, so pods stay Pending and no cluster
 * ever reaches Ready) and the real operator process (its bundle, every namespace watched):
 * 1. apply → every object desiredObjects() names exists, for clusters created one after another, p50/p99,
 *    next to the bench creating the same DSMCluster and server-side applying those objects itself;
 * 2. a burst of DSMClusters created at once → all have their objects and a status for their generation,
 *    next to the bench doing the same writes itself with as many workers as the operator has;
 * 3. API writes (dsm_operator_api_writes_total) per created cluster, and per reconcile once converged
 *    (periodic resyncs, then an annotation touched on every cluster);
 * 4. the operator's resident memory: idle, after the burst converged, peak.
 * JSON on stdout and in bench-results/operator.json; progress on stderr. Figures, not pass/fail.
 */
import { randomBytes } from 'node:crypto';
import { cpus, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import {
  desiredObjects,
  dsmClusterSpecSchema,
  FIELD_MANAGER,
  generatedSecrets,
  LABELS,
  type DSMCluster,
  type KubeObject,
} from '@dsm/cdk8s';
import { writeBenchReport } from '@dsm/testkit';
import {
  binaries,
  collectionOf,
  down,
  HttpMethod,
  installCrd,
  kubeConfigFrom,
  log,
  request,
  up,
  CLUSTER_DIR,
} from './control-plane.js';
import { delta, OperatorProcess, type Counters } from './operator-process.js';
import { objectKey, Sightings, until } from './sightings.js';

const quick = process.argv.includes('--quick');
const SEQUENTIAL = quick ? 5 : 30;
const BURST = quick ? 20 : 100;
/** The operator's default worker count, set explicitly so the burst baseline uses the same. */
const WORKERS = 2;
const RESYNC_MS = 5000;
const NAME = 'bench';
/** The smallest valid spec: 2 storage nodes, 1 core node, no bridge (defaults). */
const SPEC = { version: '1.0.0' };
const CAPABILITIES = { serviceMonitor: false, prometheusRule: false };

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
};
const summary = (values: number[]) => ({ p50Ms: pct(values, 50), p99Ms: pct(values, 99), n: values.length });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number | undefined) => (bytes === undefined ? undefined : round(bytes / 2 ** 20));

async function pool<T, R>(items: readonly T[], workers: number, fn: (item: T, i: number) => Promise<R>) {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

const phases: Record<string, number> = {};
async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  log(`${name}…`);
  try {
    return await fn();
  } finally {
    phases[name] = round((performance.now() - started) / 1000, 1);
  }
}

const benchStarted = performance.now();
const bins = await phase('clusterBinaries', binaries);
if (bins.built.length > 0) log(`built the cluster binaries: ${bins.built.join(', ')}`);

let operator: OperatorProcess | undefined;
let sightings: Sightings | undefined;
const cleanup = async () => {
  sightings?.stop();
  await operator?.stop();
  await down();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));

/** Until every StatefulSet of the clusters has observed its generation and has all its pods: the pods wanted. */
async function controllerManagerSettled(config: ReturnType<typeof kubeConfigFrom>): Promise<number> {
  const selector = `labelSelector=${encodeURIComponent(LABELS.cluster)}`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    const [sets, pods] = await Promise.all([
      request<{ items: V1StatefulSet[] }>(config, HttpMethod.GET, `/apis/apps/v1/statefulsets?${selector}`),
      request<{ items: unknown[] }>(config, HttpMethod.GET, `/api/v1/pods?${selector}`),
    ]);
    const wanted = sets.items.reduce((sum, set) => sum + (set.spec?.replicas ?? 0), 0);
    const settled = sets.items.every(
      (set) =>
        set.status?.observedGeneration === set.metadata?.generation &&
        set.status?.replicas === set.spec?.replicas &&
        set.status?.currentRevision === set.status?.updateRevision,
    );
    if (settled && pods.items.length === wanted) return wanted;
    if (Date.now() > deadline) throw new Error('timed out waiting for the StatefulSets to have every pod');
    await new Promise((r) => setTimeout(r, 500));
  }
}

try {
  const kubeconfig = await phase('controlPlaneUp', up);
  const config = kubeConfigFrom(kubeconfig);
  const custom = config.makeApiClient(CustomObjectsApi);
  const core = config.makeApiClient(CoreV1Api);
  await installCrd(bins.bin, kubeconfig);
  const kubernetes = (await request<{ gitVersion: string }>(config, HttpMethod.GET, '/version')).gitVersion;

  const parsedSpec = dsmClusterSpecSchema.parse(SPEC);
  const asCluster = (c: { metadata: { name: string; namespace: string; uid: string; generation: number } }) =>
    ({
      apiVersion: 'dsm.io/v1alpha1',
      kind: 'DSMCluster',
      metadata: c.metadata,
      spec: parsedSpec,
    }) as DSMCluster;
  const objectsOf = (cluster: DSMCluster) => desiredObjects(cluster, { capabilities: CAPABILITIES });
  const keysOf = (objects: KubeObject[]) =>
    objects.map((o) => objectKey(o.kind, o.metadata.namespace ?? '', o.metadata.name));
  const sample = objectsOf(asCluster({ metadata: { name: NAME, namespace: 'x', uid: 'x', generation: 1 } }));
  const kinds = [
    ...new Map(sample.map((o) => [o.kind, { apiVersion: o.apiVersion, kind: o.kind }])).values(),
  ];

  sightings = new Sightings(config);
  await sightings.start(kinds);
  const seen = sightings;

  const namespaces = (prefix: string, count: number) =>
    pool(
      Array.from({ length: count }, (_, i) => `${prefix}-${i}`),
      10,
      async (name) => {
        await core.createNamespace({ body: { metadata: { name } } });
        keysIn(name);
        return name;
      },
    );
  const createCluster = async (namespace: string): Promise<DSMCluster> => {
    const created = (await custom.createNamespacedCustomObject({
      group: 'dsm.io',
      version: 'v1alpha1',
      namespace,
      plural: 'dsmclusters',
      body: { apiVersion: 'dsm.io/v1alpha1', kind: 'DSMCluster', metadata: { name: NAME }, spec: SPEC },
    })) as { metadata: { name: string; namespace: string; uid: string; generation: number } };
    return asCluster(created);
  };
  const pathOf = (o: KubeObject) => collectionOf(o.apiVersion, o.kind, o.metadata.namespace);
  /** What the operator's writer does for each object: server-side apply, one field manager, forced. */
  const apply = (o: KubeObject) =>
    request(config, HttpMethod.PATCH, `${pathOf(o)}/${o.metadata.name}`, {
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      body: o,
      contentType: PatchStrategy.ServerSideApply,
    });
  // Rendering takes milliseconds: once per namespace (names depend on nothing else), before any timing.
  const keysCache = new Map<string, string[]>();
  const keysIn = (namespace: string) => {
    let keys = keysCache.get(namespace);
    if (keys === undefined) {
      const template = asCluster({ metadata: { name: NAME, namespace, uid: 'x', generation: 1 } });
      keysCache.set(namespace, (keys = keysOf(objectsOf(template))));
    }
    return keys;
  };
  const clusterKeys = (cluster: DSMCluster) => keysIn(cluster.metadata.namespace);
  const clusterDone = (cluster: DSMCluster) => {
    const last = seen.lastOf(clusterKeys(cluster));
    const status = seen.observed.get(`${cluster.metadata.namespace}/${NAME}`);
    return last === undefined || status === undefined ? undefined : Math.max(last, status);
  };
  /** Until the operator's write counter stood still for `quietMs` (at most `timeoutMs`). */
  const quiet = async (op: OperatorProcess, quietMs = 3000, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = (await op.counters()).writes;
    let since = Date.now();
    while (Date.now() < deadline) {
      await sleep(250);
      const now = (await op.counters()).writes;
      if (now !== last) [last, since] = [now, Date.now()];
      else if (Date.now() - since >= quietMs) return true;
    }
    return false;
  };
  const perCluster = (d: Counters, clusters: number) => ({
    writes: round(d.writes / clusters, 2),
    byVerbKind: Object.fromEntries(Object.entries(d.byVerbKind).map(([k, v]) => [k, round(v / clusters, 2)])),
    reconciles: round(d.reconciles / clusters, 2),
    reconcileErrors: d.reconcileErrors,
    meanReconcileMs: d.reconciles > 0 ? round((1000 * d.reconcileSeconds) / d.reconciles) : null,
  });
  const converged = (d: Counters) => ({
    ...d,
    reconcileSeconds: undefined,
    meanReconcileMs: d.reconciles > 0 ? round((1000 * d.reconcileSeconds) / d.reconciles) : null,
    writesPerReconcile: d.reconciles > 0 ? round(d.writes / d.reconciles, 3) : null,
  });

  // The operator.
  const op = new OperatorProcess();
  operator = op;
  await op.start(kubeconfig, { workers: WORKERS, resyncMs: RESYNC_MS });
  await phase('operatorReady', () => op.ready(60_000));
  await sleep(3000);
  const memory = async () => {
    const m = await op.metrics();
    const value = (name: string) => mib(m.get(name)?.[0]?.value);
    return {
      processResidentMiB: value('process_resident_memory_bytes'),
      vmRssMiB: mib(op.proc().VmRSS),
      vmHwmMiB: mib(op.proc().VmHWM),
      rssAnonMiB: mib(op.proc().RssAnon),
      rssFileMiB: mib(op.proc().RssFile),
      heapUsedMiB: value('nodejs_heap_size_used_bytes'),
      heapTotalMiB: value('nodejs_heap_size_total_bytes'),
      externalMiB: value('nodejs_external_memory_bytes'),
    };
  };
  const idleMemory = await memory();

  // 1. One cluster after another: create → all its objects seen.
  const sequential: number[] = [];
  const beforeSequential = await op.counters();
  const sequentialNamespaces = await namespaces('opb-seq', SEQUENTIAL);
  const settledSequential = await phase('operatorSequential', async () => {
    for (const namespace of sequentialNamespaces) {
      const started = performance.now();
      const cluster = await createCluster(namespace);
      const keys = clusterKeys(cluster);
      const last = await until(`the objects of ${namespace}`, () => seen.lastOf(keys), 60_000);
      sequential.push(last - started);
      await until(`a status in ${namespace}`, () => clusterDone(cluster), 60_000);
    }
    return quiet(op);
  });
  const creation = delta(beforeSequential, await op.counters());

  // 2. A burst of clusters created at once → all converged.
  const burstNamespaces = await namespaces('opb-burst', BURST);
  const beforeBurst = await op.counters();
  const burst = await phase('operatorBurst', async () => {
    const started = performance.now();
    const clusters = await Promise.all(burstNamespaces.map(createCluster));
    const createdMs = performance.now() - started;
    const done = await until(
      `${BURST} clusters converged`,
      () => {
        const times = clusters.map(clusterDone);
        return times.every((t) => t !== undefined) ? times.map((t) => t - started) : undefined;
      },
      600_000,
    );
    return { createdMs, done };
  });
  // The controller-manager keeps creating pods and PVCs (hence new StatefulSet status, hence new cluster
  // status) well after every cluster converged: "converged" below starts once it has finished too.
  const workloadsSettled = await phase('workloadsSettled', () => controllerManagerSettled(config));
  const settledBurst = await quiet(op);
  const burstWrites = delta(beforeBurst, await op.counters());
  const convergedMemory = await memory();

  // 3. Converged: reconciles from resyncs (and requeues), then from an annotation touched on each cluster.
  const clustersNow = SEQUENTIAL + BURST;
  const resync = await phase('convergedResync', async () => {
    const before = await op.counters();
    await sleep(2 * RESYNC_MS + 1500);
    return delta(before, await op.counters());
  });
  const touch = await phase('convergedTouch', async () => {
    const before = await op.counters();
    await pool([...sequentialNamespaces, ...burstNamespaces], 10, (namespace) =>
      custom.patchNamespacedCustomObject(
        {
          group: 'dsm.io',
          version: 'v1alpha1',
          namespace,
          plural: 'dsmclusters',
          name: NAME,
          body: { metadata: { annotations: { 'bench.dsm.io/touched': String(Date.now()) } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    await sleep(3000);
    await quiet(op, 2000, 30_000);
    return delta(before, await op.counters());
  });
  const peakMemory = {
    sampledVmRssMiB: mib(op.peakSampledRss),
    vmHwmMiB: mib(op.proc().VmHWM),
    sampledRssAnonMiB: mib(op.peakSampledAnon),
  };
  const operatorExit = await op.stop();
  operator = undefined;

  // Baselines, with the operator stopped: the bench writes the same objects itself.
  const baselineSequential: number[] = [];
  const applyMs: number[] = [];
  await phase('baselineSequential', async () => {
    for (const namespace of await namespaces('opb-base-seq', SEQUENTIAL)) {
      const started = performance.now();
      const objects = objectsOf(await createCluster(namespace));
      for (const o of objects) {
        const sent = performance.now();
        await apply(o);
        applyMs.push(performance.now() - sent);
      }
      const keys = keysOf(objects);
      baselineSequential.push(
        (await until(`${namespace}'s objects`, () => seen.lastOf(keys), 60_000)) - started,
      );
    }
  });
  const baselineNamespaces = await namespaces('opb-base-burst', BURST);
  const baselineBurst = await phase('baselineBurst', async () => {
    const started = performance.now();
    const creates = baselineNamespaces.map(createCluster);
    // As the operator's first reconcile: apply the objects, create the generated Secrets, write a status.
    const clusters = await pool(creates, WORKERS, async (create) => {
      const cluster = await create;
      for (const o of objectsOf(cluster)) await apply(o);
      for (const secret of generatedSecrets(cluster, randomBytes))
        await request(config, HttpMethod.POST, pathOf(secret), {
          query: { fieldManager: FIELD_MANAGER },
          body: secret,
        });
      const { name, namespace, generation } = cluster.metadata;
      await request(
        config,
        HttpMethod.PATCH,
        `${collectionOf('dsm.io/v1alpha1', 'DSMCluster', namespace)}/${name}/status`,
        {
          query: { fieldManager: FIELD_MANAGER, force: 'true' },
          body: {
            apiVersion: 'dsm.io/v1alpha1',
            kind: 'DSMCluster',
            metadata: { name, namespace },
            status: { observedGeneration: generation, phase: 'Progressing' },
          },
          contentType: PatchStrategy.ServerSideApply,
        },
      );
      return cluster;
    });
    const done = await until(
      `${BURST} baseline clusters`,
      () => {
        const times = clusters.map(clusterDone);
        return times.every((t) => t !== undefined) ? times.map((t) => t - started) : undefined;
      },
      600_000,
    );
    const objects = objectsOf(clusters[0]!).length;
    return { done, writesPerCluster: 1 + objects + generatedSecrets(clusters[0]!, randomBytes).length + 1 };
  });

  const burstSeconds = Math.max(...burst.done) / 1000;
  const baselineBurstSeconds = Math.max(...baselineBurst.done) / 1000;
  const clusterCreate = 1; // the DSMCluster itself, written by the user (the bench), not the operator
  const floorWrites = baselineBurst.writesPerCluster - clusterCreate;
  const creationPerCluster = perCluster(creation, SEQUENTIAL);
  const burstPerCluster = perCluster(burstWrites, BURST);
  const peakMiB = Math.max(peakMemory.sampledVmRssMiB ?? 0, peakMemory.vmHwmMiB ?? 0);

  writeBenchReport('operator', {
    package: '@dsm/operator',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30),
    kernel: release(),
    setup: {
      controlPlane: `etcd, kube-apiserver, kube-controller-manager ${kubernetes} on loopback (${CLUSTER_DIR}); no kubelet: pods stay Pending, no cluster reaches Ready, so the operator requeues each every 5 s`,
      clusterBinaries:
        bins.built.length > 0
          ? `built by this run: ${bins.built.join(', ')}`
          : 'cached (e2e/cluster/build.sh)',
      operator: 'operator/dist/bundle/dsm-operator.mjs, one process, admin kubeconfig, all namespaces',
      workers: WORKERS,
      resyncMs: RESYNC_MS,
      spec: SPEC,
      objectsPerCluster: sample.length,
      objectKinds: kinds.map((k) => k.kind),
      sequentialClusters: SEQUENTIAL,
      burstClusters: BURST,
    },
    applyToAllObjects: {
      what: 'DSMCluster create sent → every object desiredObjects() names seen by a watch; clusters one after another, each in its own namespace',
      operator: summary(sequential),
      baseline: {
        what: 'the bench creates the DSMCluster and server-side applies the same objects itself, one after another',
        ...summary(baselineSequential),
        oneApply: summary(applyMs),
      },
      ratioP50: round(pct(sequential, 50) / pct(baselineSequential, 50), 2),
      ratioP99: round(pct(sequential, 99) / pct(baselineSequential, 99), 2),
      goal: 'p99 ≤ 2000 ms',
    },
    burst: {
      what: `${BURST} DSMClusters created at once (${BURST} namespaces) → every one has all its objects and status.observedGeneration = metadata.generation`,
      operator: {
        secondsToAllConverged: round(burstSeconds, 2),
        createsAnsweredMs: round(burst.createdMs),
        perCluster: summary(burst.done),
      },
      baseline: {
        what: `the bench, ${WORKERS} workers (the operator's count): objects applied, generated Secrets created, a status written per cluster`,
        secondsToAllConverged: round(baselineBurstSeconds, 2),
        perCluster: summary(baselineBurst.done),
      },
      ratio: round(burstSeconds / baselineBurstSeconds, 2),
      goal: `${BURST} clusters ≤ 60 s`,
    },
    apiWrites: {
      perCreatedCluster: {
        what: `dsm_operator_api_writes_total over the ${SEQUENTIAL} sequential clusters, create → settled (no write for 3 s${settledSequential ? '' : ': NOT reached within 60 s'}), divided by ${SEQUENTIAL}`,
        ...creationPerCluster,
        floor: floorWrites,
        ratioToFloor: round(creationPerCluster.writes / floorWrites, 2),
      },
      perBurstCluster: {
        what: `the same over the burst, divided by ${BURST}${settledBurst ? '' : ' (writes had not settled within 60 s)'}`,
        ...burstPerCluster,
        ratioToFloor: round(burstPerCluster.writes / floorWrites, 2),
      },
      floorWhat: `writes one cluster needs at least: ${sample.length} applies, the generated Secrets, 1 status (the baseline's writes, the DSMCluster create excluded)`,
      converged: {
        clusters: clustersNow,
        from: `the controller-manager done (every StatefulSet at its generation, all ${workloadsSettled} pods created), then no operator write for 3 s`,
        resync: {
          what: `${2 * RESYNC_MS + 1500} ms of resyncs (every ${RESYNC_MS} ms) and requeues, nothing changed`,
          ...converged(resync),
        },
        touch: {
          what: 'an annotation patched on every cluster (metadata only: generation unchanged)',
          ...converged(touch),
        },
      },
      leaseRenewalsLeftOut: 'writes of kind Lease (leader election, every retry period) are counted apart',
      goal: '0 writes per reconcile when converged',
    },
    memory: {
      idle: idleMemory,
      afterBurstConverged: convergedMemory,
      peak: peakMemory,
      ratioPeakToGoal: round(peakMiB / 150, 2),
      growthOverIdle: round(peakMiB / (idleMemory.vmRssMiB ?? peakMiB), 2),
      goal: 'RSS ≤ 150 MB (MiB here)',
    },
    operatorExitCode: operatorExit,
    watchRestarts: seen.restarts,
    phasesSeconds: phases,
    totalSeconds: round((performance.now() - benchStarted) / 1000),
  });
} finally {
  await cleanup();
}
