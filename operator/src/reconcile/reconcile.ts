/**
 * One reconcile of one DSMCluster: observe (the informers' caches and the storage pods' public status) →
 * plan (pure: scale.ts, rollout.ts) → create the generated Secrets not yet known to exist → desired (pure:
 * @dsm/cdk8s) → apply what differs → fix running storage nodes' peer lists (with the derived peer token)
 * → prune → status (pure: status.ts), written only when it changed, with an Event per condition transition.
 * No Secret is read: the peer token is derived from the operator's key (peer-token.ts), and which generated
 * Secrets exist is remembered from the creates' answers (201 or 409).
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesObject, V1StatefulSet } from '@kubernetes/client-node';
import {
  ANNOTATIONS,
  clusterNameProblem,
  desiredObjects,
  dsmClusterSpecSchema,
  generatedSecrets,
  LABELS,
  names,
  PORTS,
  type DSMCluster,
  type DSMClusterStatus,
  type KubeObject,
} from '@dsm/cdk8s';
import type {
  CachedKind,
  ClusterKey,
  ControllerContext,
  ReconcileResult,
  ReconcileTrigger,
  Reconciler,
} from '../controller/types.js';
import { keyString } from '../controller/types.js';
import { LOG } from '../log-fields.js';
import { derivePeerToken } from '../peer-token.js';
import { refusalOf, type Writer } from './apply.js';
import { catchUp, type Member, type ProbeAnswer } from './catchup.js';
import { observeBackups } from './backup-status.js';
import { isWarning, transitions } from './conditions.js';
import { differs, firstDifference, stamp } from './differs.js';
import { changePeers, probePeers } from './probe.js';
import { API_VERSIONS, PRUNABLE_KINDS, toPrune } from './prune.js';
import { planRollout } from './rollout.js';
import { planScale } from './scale.js';
import { SecretMemory } from './secret-memory.js';
import { applyFailed, computeStatus, invalidSpecStatus, statusChanged, type ApplyRefusal } from './status.js';
import { planTopology } from './topology.js';
import { podReady, statefulSetPods, templateVersion } from './workloads.js';

/** A storage pod the probe and the peer lists name. */
export interface StoragePodRef {
  cluster: ClusterKey;
  pod: string;
  ordinal: number;
}

export interface ReconcilerOptions {
  /** The operator's key (key.ts): every cluster's storage peer token is derived from it. */
  operatorKey: Buffer;
  /** Base URL of a storage pod's API (status and admin). Default `http://<pod>.<headless>.<namespace>.svc:8765`. */
  storageUrl?: (ref: StoragePodRef) => string;
  /** `host:port` storage nodes list a pod at (its DSM_STORAGE_ADVERTISE). Default `<pod>.<headless>:8765`. */
  storagePeerAddress?: (ref: StoragePodRef) => string;
  /** Deadline of one status or peer-change request. Default 2000 ms. */
  probeTimeoutMs?: number;
  /** How soon to look again while something is progressing. Default 5000 ms. */
  requeueAfterMs?: number;
  /** The operator's namespace (its probes pass the NetworkPolicies). Default POD_NAMESPACE when set. */
  operatorNamespace?: string;
  now?: () => Date;
  random?: (bytes: number) => Buffer;
}

/** Storage nodes a cluster may have at most (the spec's bound): how far to look for removed pods. */
const MAX_STORAGE = 64;

export class ClusterReconciler implements Reconciler {
  private readonly storageUrl: (ref: StoragePodRef) => string;
  private readonly peerAddress: (ref: StoragePodRef) => string;
  private readonly now: () => Date;
  /**
   * Generated Secrets known to exist (this process created them, or a create answered 409): a converged
   * cluster costs no create on an event, and Secrets need no informer (none may be read). A periodic
   * resync forgets the cluster's entries, so a deleted one is created again within a resync period.
   */
  private readonly existing = new SecretMemory();
  /** Cluster key → uid last reconciled: what to forget once the cluster is gone. */
  private readonly uids = new Map<string, string>();
  /** Clusters (uid) whose storage pods refused the derived peer token: the pods that did. */
  private readonly refusedToken = new Map<string, readonly string[]>();
  /** Clusters (uid) → uid of the peer-token Secret this process created: rolls storage onto it. */
  private readonly peerTokenRevision = new Map<string, string>();

  constructor(
    private readonly context: ControllerContext,
    private readonly writer: Writer,
    private readonly options: ReconcilerOptions,
  ) {
    this.storageUrl =
      options.storageUrl ??
      (({ cluster, pod }) =>
        `http://${pod}.${names(cluster.name).storageHeadless}.${cluster.namespace}.svc:${PORTS.storage}`);
    this.peerAddress =
      options.storagePeerAddress ??
      (({ cluster, pod }) => `${pod}.${names(cluster.name).storageHeadless}:${PORTS.storage}`);
    this.now = options.now ?? (() => new Date());
  }

  async reconcile(key: ClusterKey, trigger?: ReconcileTrigger): Promise<ReconcileResult> {
    const { cache } = this.context;
    const cluster = cache.get('DSMCluster', key.namespace, key.name);
    // Gone, or going: owner references let the garbage collector remove the children.
    if (cluster === undefined || cluster.metadata.deletionTimestamp !== undefined) {
      this.forgetCluster(keyString(key));
      return {};
    }
    const uid = cluster.metadata.uid;
    if (uid !== undefined) {
      const previous = this.uids.get(keyString(key));
      // Recreated under the same name: the old uid's memory is of no use.
      if (previous !== undefined && previous !== uid) this.forgetCluster(keyString(key));
      this.uids.set(keyString(key), uid);
      if (trigger?.resync === true) this.existing.forget(uid);
    }
    const parsed = dsmClusterSpecSchema.safeParse(cluster.spec);
    const problem = parsed.success
      ? clusterNameProblem(cluster.metadata.name)
      : parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
    if (!parsed.success || problem !== undefined) {
      await this.writeStatus(cluster, invalidSpecStatus(cluster, problem ?? '', this.now().toISOString()));
      return {};
    }
    return this.reconcileValid({ ...cluster, spec: parsed.data });
  }

  /** Drops what is remembered about a cluster that is gone: every map stays bounded by the clusters. */
  private forgetCluster(key: string): void {
    const uid = this.uids.get(key);
    if (uid === undefined) return;
    this.uids.delete(key);
    this.existing.forget(uid);
    this.refusedToken.delete(uid);
    this.peerTokenRevision.delete(uid);
  }

  private member(cluster: ClusterKey, ordinal: number): Member {
    const pod = names(cluster.name).pod('storage', ordinal);
    return { pod, address: this.peerAddress({ cluster, pod, ordinal }) };
  }

  private async reconcileValid(cluster: DSMCluster): Promise<ReconcileResult> {
    const { cache } = this.context;
    const { name, namespace } = cluster.metadata;
    const key = { name, namespace };
    const n = names(name);
    const spec = cluster.spec;
    const nowDate = this.now();

    // Observe.
    const storageSts = cache.get('StatefulSet', namespace, n.storage);
    const coreSts = cache.get('StatefulSet', namespace, n.core);
    const bridgeDeploy = cache.get('Deployment', namespace, n.bridge);
    const pods = cache.list('Pod', namespace, { [LABELS.cluster]: name });
    const podByName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
    const liveStorage = storageSts?.spec?.replicas;
    const span = Math.max(liveStorage ?? 0, spec.storage.replicas);
    const members = Array.from({ length: span }, (_, i) => this.member(key, i));
    const answers = await this.probe(cluster, members, podByName);
    const catchUpOptions = {
      now: nowDate.getTime(),
      maxAgeMs: Math.max(30_000, 3 * spec.storage.syncIntervalMs),
    };

    // Plan.
    const scale = planScale({
      wanted: spec.storage.replicas,
      current: liveStorage,
      replicationFactor: spec.storage.replicationFactor,
      members,
      answers,
      catchUp: catchUpOptions,
    });
    const current = members.slice(0, scale.replicas);
    const caught = catchUp(current, answers, catchUpOptions);
    const storagePods = statefulSetPods(storageSts, pods, n.storage, liveStorage ?? 0).map((p) => ({
      ...p,
      caughtUp: caught.caughtUp.has(p.name),
    }));
    const coreFacts = workloadFacts(coreSts, spec.core.replicas);
    const rollout = planRollout({
      target: spec.version,
      storage: {
        version: templateVersion(storageSts),
        partition: storageSts?.spec?.updateStrategy?.rollingUpdate?.partition,
        observed:
          storageSts?.status?.updateRevision !== undefined &&
          (storageSts.status.observedGeneration ?? 0) >= (storageSts.metadata?.generation ?? 0),
        pods: storagePods,
      },
      core: coreFacts,
      bridge: {
        enabled: spec.bridge.enabled,
        version: templateVersion(bridgeDeploy),
        rolling:
          bridgeDeploy !== undefined &&
          ((bridgeDeploy.status?.observedGeneration ?? 0) < (bridgeDeploy.metadata?.generation ?? 0) ||
            (bridgeDeploy.status?.updatedReplicas ?? 0) < (bridgeDeploy.spec?.replicas ?? 1) ||
            (bridgeDeploy.status?.replicas ?? 0) > (bridgeDeploy.status?.updatedReplicas ?? 0) ||
            // Its new pod exists but is not ready yet: the roll is not over (the cluster's last version is
            // still another one), which the Deployment's counts alone do not say.
            (cluster.status?.version !== undefined &&
              cluster.status.version !== spec.version &&
              templateVersion(bridgeDeploy) === spec.version &&
              (bridgeDeploy.status?.readyReplicas ?? 0) < (bridgeDeploy.spec?.replicas ?? 1))),
        ready: (bridgeDeploy?.status?.readyReplicas ?? 0) >= (bridgeDeploy?.spec?.replicas ?? 1),
      },
    });

    // Generated Secrets first (the pods mount them), each created until it is known to exist.
    const uid = cluster.metadata.uid;
    if (uid === undefined) throw new Error(`DSMCluster ${namespace}/${name} has no uid`);
    const peerToken = derivePeerToken(this.options.operatorKey, { namespace, name, uid });
    await this.createSecrets(cluster, uid, peerToken);
    const peerTokenRevision =
      this.peerTokenRevision.get(uid) ??
      storageSts?.spec?.template?.metadata?.annotations?.[ANNOTATIONS.peerTokenRevision];

    // Desired, then apply what differs from the cache's copy.
    const operatorNamespace = this.options.operatorNamespace ?? (process.env.POD_NAMESPACE || undefined);
    const desired = desiredObjects(cluster, {
      capabilities: this.context.capabilities(),
      versions: rollout.versions,
      storageReplicas: scale.replicas,
      ...(operatorNamespace !== undefined ? { operatorNamespace } : {}),
      ...(peerTokenRevision !== undefined ? { peerTokenRevision } : {}),
    }).map((o) =>
      stamp(
        o.kind === 'StatefulSet' && o.metadata.name === n.storage
          ? withPartition(o, rollout.storagePartition)
          : o,
      ),
    );
    const applyRefused: ApplyRefusal[] = [];
    for (const object of desired) {
      const live = this.live(object);
      if (!differs(object, live)) continue;
      this.context.log.debug(
        {
          [LOG.cluster]: `${namespace}/${name}`,
          [LOG.kind]: object.kind,
          [LOG.name]: object.metadata.name,
          field: firstDifference(object, live),
        },
        'applying',
      );
      try {
        await this.writer.apply(object as KubernetesObject);
      } catch (err) {
        // A refusal (4xx) is reported in the status and the other objects still applied; the rest (5xx,
        // no answer) ends the round for the backoff.
        const refusal = refusalOf(err);
        if (refusal === undefined) throw err;
        applyRefused.push({ kind: object.kind, name: object.metadata.name, ...refusal });
      }
    }

    // Running storage nodes learn about new pods and forget removed ones.
    const gone = Array.from({ length: MAX_STORAGE - scale.replicas }, (_, i) =>
      this.member(key, scale.replicas + i),
    ).filter((m) => !podByName.has(m.pod));
    const topology = planTopology(current, gone, answers);
    if (topology.length > 0) {
      const { errors, refusedToken } = await changePeers(
        topology.map((t) => {
          const ordinal = Number(t.pod.slice(n.storage.length + 1));
          return { ...t, url: this.storageUrl({ cluster: key, pod: t.pod, ordinal }) };
        }),
        { token: peerToken, timeoutMs: this.options.probeTimeoutMs ?? 2000 },
      );
      for (const error of errors)
        this.context.log.warn(
          { [LOG.cluster]: `${namespace}/${name}`, [LOG.err]: error },
          'storage peer change failed',
        );
      const mismatched = tokenRefusals(refusedToken, storagePods);
      if (mismatched.length > 0) this.refusedToken.set(uid, mismatched);
      else this.refusedToken.delete(uid);
    }

    // Prune what is labelled with this cluster, owned by it and no longer desired.
    if (cluster.metadata.uid !== undefined) {
      // Listed objects may come without apiVersion and kind; deleting needs both.
      const labelled = PRUNABLE_KINDS.flatMap((kind) =>
        cache
          .list(kind, namespace, { [LABELS.cluster]: name })
          .map((o) => ({ ...o, apiVersion: o.apiVersion ?? API_VERSIONS[kind], kind }) as KubernetesObject),
      );
      for (const object of toPrune(labelled, desired, cluster.metadata.uid)) await this.writer.delete(object);
    }

    // Status from what was observed.
    const status = computeStatus({
      cluster,
      now: nowDate.toISOString(),
      core: { workload: coreSts, pods: statefulSetPods(coreSts, pods, n.core, spec.core.replicas) },
      storage: { workload: storageSts, pods: statefulSetPods(storageSts, pods, n.storage, scale.replicas) },
      bridge: { workload: bridgeDeploy },
      catchUp: caught,
      rollout,
      scale,
      peerTokenRefusedBy: this.refusedToken.get(uid) ?? [],
      applyRefused,
      backups: observeBackups(
        spec.backup,
        cache.list('Job', namespace, { [LABELS.cluster]: name, [LABELS.component]: 'backup' }),
        cluster.status,
        n.backup,
      ),
    });
    await this.writeStatus(cluster, status);
    // Reported; the round still failed, so it is retried with backoff (and counted in the errors metric).
    if (applyRefused.length > 0) throw new Error(applyFailed(applyRefused).message);
    const settled = status.phase === 'Ready';
    return settled ? {} : { requeueAfterMs: this.options.requeueAfterMs ?? 5000 };
  }

  private live(object: KubeObject): object | undefined {
    return this.context.cache.get(
      object.kind as CachedKind,
      object.metadata.namespace ?? '',
      object.metadata.name,
    );
  }

  /** Peer lists of the storage pods that are ready (the others cannot answer); fail closed on any error. */
  private async probe(
    cluster: DSMCluster,
    members: readonly Member[],
    podByName: ReadonlyMap<string, Parameters<typeof podReady>[0]>,
  ): Promise<Map<string, ProbeAnswer>> {
    const key = { name: cluster.metadata.name, namespace: cluster.metadata.namespace };
    const answers = new Map<string, ProbeAnswer>();
    const targets = members
      .map((m, ordinal) => ({ ...m, ordinal }))
      .filter((m) => {
        if (podReady(podByName.get(m.pod))) return true;
        answers.set(m.pod, { ok: false, error: 'pod not ready' });
        return false;
      });
    if (targets.length === 0) return answers;
    const asked = await probePeers(
      targets.map((t) => ({
        pod: t.pod,
        url: this.storageUrl({ cluster: key, pod: t.pod, ordinal: t.ordinal }),
      })),
      { timeoutMs: this.options.probeTimeoutMs ?? 2000 },
    );
    for (const [pod, answer] of asked) answers.set(pod, answer);
    return answers;
  }

  /**
   * Creates each generated Secret not known to exist. While the cluster's pods refuse the derived peer
   * token, its peer-token Secret is tried again every time: once the user deleted it (the remedy the
   * condition names) the create succeeds, and its uid rolls the storage pods onto the derived token.
   */
  private async createSecrets(cluster: DSMCluster, uid: string, peerToken: string): Promise<void> {
    const n = names(cluster.metadata.name);
    if (this.refusedToken.has(uid)) this.existing.forgetSecret(uid, n.peerToken);
    const secrets = generatedSecrets(cluster, this.options.random ?? randomBytes, { peerToken });
    for (const secret of secrets) {
      if (this.existing.has(uid, secret.metadata.name)) continue;
      const created = await this.writer.createOnce(secret as KubernetesObject);
      this.existing.remember(uid, secret.metadata.name);
      if (created === undefined || secret.metadata.name !== n.peerToken) continue;
      const secretUid = created.metadata?.uid;
      if (secretUid !== undefined) this.peerTokenRevision.set(uid, secretUid);
      // A new Secret holds the derived token: the refusals were about the old one.
      this.refusedToken.delete(uid);
    }
  }

  private async writeStatus(cluster: DSMCluster, status: DSMClusterStatus): Promise<void> {
    if (!statusChanged(cluster.status, status)) return;
    const key = { name: cluster.metadata.name, namespace: cluster.metadata.namespace };
    await this.writer.writeStatus(key, status);
    // A backup's outcome is an Event of its own, once per Job (failures in a row each get one).
    for (const t of transitions(cluster.status?.conditions, status.conditions ?? []))
      if (t.type !== 'LastBackupSucceeded')
        await this.context.events.event(
          cluster,
          isWarning(t) ? 'Warning' : 'Normal',
          t.reason,
          `${t.type} ${t.to}: ${t.message}`.slice(0, 1024),
        );
    const run = status.lastBackup;
    if (run !== undefined && run.job !== cluster.status?.lastBackup?.job) {
      const backup = status.conditions?.find((c) => c.type === 'LastBackupSucceeded');
      await this.context.events.event(
        cluster,
        run.succeeded ? 'Normal' : 'Warning',
        run.succeeded ? 'BackupCompleted' : 'BackupFailed',
        (backup?.message ?? `backup ${run.job}`).slice(0, 1024),
      );
    }
  }
}

/**
 * The refusals of the peer token that show a mismatch: a pod of an older StatefulSet revision is about to
 * be rolled (onto a recreated Secret, say) and may still hold the old token.
 */
export function tokenRefusals(
  refusedBy: readonly string[],
  pods: readonly { name: string; updated: boolean }[],
): string[] {
  return refusedBy.filter((pod) => pods.find((p) => p.name === pod)?.updated !== false);
}

function workloadFacts(sts: V1StatefulSet | undefined, wanted: number) {
  const s = sts?.status;
  return {
    version: templateVersion(sts),
    rolling:
      sts !== undefined &&
      ((s?.observedGeneration ?? 0) < (sts.metadata?.generation ?? 0) ||
        s?.currentRevision !== s?.updateRevision),
    ready: (s?.readyReplicas ?? 0) >= wanted,
  };
}

/** The storage StatefulSet with the roll's partition: pods below it keep their version until it moves down. */
function withPartition(object: KubeObject, partition: number): KubeObject {
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  return {
    ...object,
    spec: { ...spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } } },
  };
}
