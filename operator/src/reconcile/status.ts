/**
 * The DSMCluster status as a pure function of what was observed: component counts and endpoints, the
 * conditions (metav1.Condition semantics through conditions.ts), phase, the scale subresource's fields and
 * the Secrets in use. Messages name pods and numbers so a person knows what to look at.
 */
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import {
  names,
  PORTS,
  readyOf,
  type ComponentStatus,
  type Condition,
  type DSMCluster,
  type DSMClusterSpec,
  type DSMClusterStatus,
} from '@dsm/cdk8s';
import type { BackupObservation } from './backup-status.js';
import { mergeConditions, type ConditionValue } from './conditions.js';
import type { RolloutPlan } from './rollout.js';
import type { ScalePlan } from './scale.js';
import { templateVersion, type PodFact } from './workloads.js';

export interface StatusInput {
  cluster: DSMCluster;
  now: string;
  core: { workload: V1StatefulSet | undefined; pods: readonly PodFact[] };
  /** Pods 0..scale.replicas-1 of the storage StatefulSet. */
  storage: { workload: V1StatefulSet | undefined; pods: readonly PodFact[] };
  bridge: { workload: V1Deployment | undefined };
  /** Storage pods caught up with every other, and why the others are not. */
  catchUp: { caughtUp: ReadonlySet<string>; gaps: ReadonlyMap<string, string> };
  rollout: RolloutPlan;
  scale: ScalePlan;
  /** Storage pods that refused the derived peer token on a peer change (E_UNAUTHORIZED); empty: none. */
  peerTokenRefusedBy?: readonly string[];
  /** Objects the apiserver refused to apply this round (a 4xx answer: retrying alone will not help). */
  applyRefused?: readonly ApplyRefusal[];
  /** How spec.backup's runs went (backup-status.ts); empty without spec.backup. */
  backups?: BackupObservation;
}

export interface ApplyRefusal {
  kind: string;
  name: string;
  /** The HTTP status of the apiserver's answer. */
  code: number;
  /** The apiserver's own message. */
  message: string;
}

/**
 * Degraded ApplyFailed: the apiserver refused objects of the cluster. A 403 is the operator's RBAC lacking
 * a verb (the chart's rules and this operator's version differ); anything else is in the message.
 */
export function applyFailed(refused: readonly ApplyRefusal[]): ConditionValue {
  const forbidden = refused.some((r) => r.code === 403);
  return {
    type: 'Degraded',
    status: 'True',
    reason: 'ApplyFailed',
    message:
      refused
        .map((r) => `the apiserver refused ${r.kind} ${r.name} (HTTP ${r.code}): ${r.message}`)
        .join('; ') +
      (forbidden
        ? ". The operator's ServiceAccount lacks that permission: install the chart of the operator's own " +
          'version (charts/dsm-operator), whose Roles grant what it does'
        : ''),
  };
}

/**
 * Degraded PeerTokenMismatch: the peer-token Secret holds another value than the operator derives (an
 * older operator made it randomly, or the operator's key Secret was lost and made anew), so the running
 * nodes refuse its peer changes. What to do is in the message.
 */
export function peerTokenMismatch(cluster: string, pods: readonly string[]): ConditionValue {
  const secret = names(cluster).peerToken;
  return {
    type: 'Degraded',
    status: 'True',
    reason: 'PeerTokenMismatch',
    message:
      `storage pods ${pods.join(', ')} refuse the peer token the operator derives for this cluster: the ` +
      `Secret ${secret} holds another value (made by an older operator, or before the operator's key ` +
      `Secret was lost). Delete the Secret ${secret}: the operator creates it again with the derived token ` +
      'and rolls the storage pods onto it',
  };
}

export type SecretNames = NonNullable<DSMClusterStatus['secrets']>;

/** The Secrets a cluster uses: the user's where named, else the generated `<cluster>-<what>`. */
export function secretNames(cluster: { metadata: { name: string }; spec: DSMClusterSpec }): SecretNames {
  const n = names(cluster.metadata.name);
  const s = cluster.spec.secrets;
  return {
    adminToken: s.adminToken?.name ?? n.adminToken,
    apiToken: s.apiToken?.name ?? n.apiToken,
    keystoreKey: s.keystoreKey?.name ?? n.keystoreKey,
  };
}

const waitingList = (pods: readonly PodFact[]) =>
  pods
    .filter((p) => !p.ready)
    .map((p) => `${p.name} (${p.state})`)
    .join(', ');

function podsCondition(
  type: 'CoreReady' | 'StorageReady',
  component: string,
  workload: V1StatefulSet | undefined,
  workloadName: string,
  pods: readonly PodFact[],
): ConditionValue | undefined {
  if (workload === undefined)
    return {
      type,
      status: 'False',
      reason: 'WaitingForPods',
      message: `the ${component} StatefulSet ${workloadName} does not exist yet`,
    };
  const ready = pods.filter((p) => p.ready).length;
  if (ready < pods.length)
    return {
      type,
      status: 'False',
      reason: 'WaitingForPods',
      message: `${ready}/${pods.length} ${component} pods ready; waiting for ${waitingList(pods)}`,
    };
  return undefined;
}

function storageCondition(input: StatusInput): ConditionValue {
  const n = names(input.cluster.metadata.name);
  const { pods } = input.storage;
  const waiting = podsCondition('StorageReady', 'storage', input.storage.workload, n.storage, pods);
  if (waiting) return waiting;
  const lagging = pods.filter((p) => !input.catchUp.caughtUp.has(p.name));
  if (lagging.length > 0)
    return {
      type: 'StorageReady',
      status: 'False',
      reason: 'StorageCatchingUp',
      message:
        `${pods.length - lagging.length}/${pods.length} storage pods caught up with their peers: ` +
        lagging.map((p) => input.catchUp.gaps.get(p.name) ?? `${p.name} is catching up`).join('; '),
    };
  return {
    type: 'StorageReady',
    status: 'True',
    reason: 'AllReplicasReady',
    message: `${pods.length}/${pods.length} storage pods ready and caught up with their peers`,
  };
}

function coreCondition(input: StatusInput): ConditionValue {
  const n = names(input.cluster.metadata.name);
  const { pods } = input.core;
  return (
    podsCondition('CoreReady', 'core', input.core.workload, n.core, pods) ?? {
      type: 'CoreReady',
      status: 'True',
      reason: 'AllReplicasReady',
      message: `${pods.length}/${pods.length} core pods ready`,
    }
  );
}

function bridgeCondition(input: StatusInput): ConditionValue {
  const n = names(input.cluster.metadata.name);
  if (!input.cluster.spec.bridge.enabled)
    return {
      type: 'BridgeReady',
      status: 'True',
      reason: 'BridgeDisabled',
      message: 'the bridge is disabled (spec.bridge.enabled is false)',
    };
  const deploy = input.bridge.workload;
  if (deploy === undefined)
    return {
      type: 'BridgeReady',
      status: 'False',
      reason: 'WaitingForPods',
      message: `the bridge Deployment ${n.bridge} does not exist yet`,
    };
  const wanted = deploy.spec?.replicas ?? 1;
  const ready = deploy.status?.readyReplicas ?? 0;
  if (ready < wanted)
    return {
      type: 'BridgeReady',
      status: 'False',
      reason: 'WaitingForPods',
      message: `${ready}/${wanted} bridge pods ready (Deployment ${n.bridge})`,
    };
  return {
    type: 'BridgeReady',
    status: 'True',
    reason: 'AllReplicasReady',
    message: `${ready}/${wanted} bridge pods ready`,
  };
}

function progressing(input: StatusInput, components: ConditionValue[]): ConditionValue {
  const { rollout, scale } = input;
  if (rollout.step !== undefined)
    return { type: 'Progressing', status: 'True', reason: rollout.step, message: rollout.message ?? '' };
  if (scale.refused)
    return {
      type: 'Progressing',
      status: 'True',
      reason: 'ScaleDownRefused',
      message: scale.refused.message,
    };
  const liveReplicas = input.storage.workload?.status?.replicas ?? 0;
  if (scale.direction === 'down' || liveReplicas > scale.replicas)
    return {
      type: 'Progressing',
      status: 'True',
      reason: 'ScalingStorageDown',
      message: `removing storage pods down to ${scale.replicas} (${liveReplicas} now)`,
    };
  const waiting = components.find((c) => c.status !== 'True');
  if (waiting !== undefined)
    return {
      type: 'Progressing',
      status: 'True',
      reason: scale.direction === 'up' ? 'ScalingStorageUp' : waiting.reason,
      message: waiting.message,
    };
  return {
    type: 'Progressing',
    status: 'False',
    reason: 'Converged',
    message: `every component runs ${input.cluster.spec.version} with the replicas the spec asks for`,
  };
}

function component(
  wanted: number,
  pods: readonly PodFact[],
  ready: (p: PodFact) => boolean,
  workload: V1StatefulSet | undefined,
  version: string,
  endpoints: string[],
): ComponentStatus {
  const current = templateVersion(workload) === version;
  const readyReplicas = pods.filter(ready).length;
  return {
    replicas: wanted,
    readyReplicas,
    updatedReplicas: current ? pods.filter((p) => p.exists && p.updated).length : 0,
    ready: readyOf(readyReplicas, wanted),
    endpoints,
  };
}

function selectorOf(workload: V1StatefulSet | undefined): string | undefined {
  const labels = workload?.spec?.selector?.matchLabels;
  if (!labels) return undefined;
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function computeStatus(input: StatusInput): DSMClusterStatus {
  const { cluster } = input;
  const { name, namespace } = cluster.metadata;
  const n = names(name);
  const spec = cluster.spec;
  const previous = cluster.status;
  const storage = storageCondition(input);
  const core = coreCondition(input);
  const bridge = bridgeCondition(input);
  const components = [storage, core, bridge];
  const notReady = components.filter((c) => c.status !== 'True');
  const ready: ConditionValue =
    notReady.length === 0
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'AllComponentsReady',
          message: `storage, core and ${spec.bridge.enabled ? 'the bridge' : 'no bridge (disabled)'} are ready`,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: notReady[0]!.reason,
          message: notReady.map((c) => c.message).join('; '),
        };
  const refusedBy = input.peerTokenRefusedBy ?? [];
  const applyRefused = input.applyRefused ?? [];
  const degraded: ConditionValue =
    applyRefused.length > 0
      ? applyFailed(applyRefused)
      : refusedBy.length > 0
        ? peerTokenMismatch(name, refusedBy)
        : input.scale.refused
          ? {
              type: 'Degraded',
              status: 'True',
              reason: 'ScaleDownRefused',
              message: input.scale.refused.message,
            }
          : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'nothing needs attention' };
  const backups = input.backups ?? {};
  const conditions = mergeConditions(
    // Without spec.backup there is no backup condition to keep.
    previous?.conditions?.filter((c) => c.type !== 'LastBackupSucceeded' || backups.condition !== undefined),
    [
      ready,
      progressing(input, components),
      degraded,
      core,
      storage,
      bridge,
      ...(backups.condition ? [backups.condition] : []),
    ],
    cluster.metadata.generation,
    input.now,
  );
  const caughtUp = (p: PodFact) => p.ready && input.catchUp.caughtUp.has(p.name);
  const deploy = input.bridge.workload;
  const bridgeCurrent = templateVersion(deploy) === spec.version;
  const svc = (service: string, port: number) => `${service}.${namespace}.svc:${port}`;
  const selector = selectorOf(input.storage.workload);
  return {
    observedGeneration: cluster.metadata.generation,
    conditions,
    phase: phaseOf(conditions),
    ...(input.rollout.done
      ? { version: spec.version }
      : previous?.version
        ? { version: previous.version }
        : {}),
    core: component(spec.core.replicas, input.core.pods, (p) => p.ready, input.core.workload, spec.version, [
      svc(n.core, PORTS.coreApi),
    ]),
    storage: component(
      spec.storage.replicas,
      input.storage.pods,
      caughtUp,
      input.storage.workload,
      spec.version,
      input.storage.pods.map((p) => `${p.name}.${n.storageHeadless}.${namespace}.svc:${PORTS.storage}`),
    ),
    bridge: bridgeStatus(spec.bridge.enabled, deploy, bridgeCurrent, svc(n.bridge, PORTS.bridge)),
    replicas: input.storage.workload?.status?.replicas ?? 0,
    ...(selector !== undefined ? { selector } : {}),
    secrets: secretNames(cluster),
    ...(backups.lastBackup ? { lastBackup: backups.lastBackup } : {}),
    ...(backups.lastSuccessfulBackup ? { lastSuccessfulBackup: backups.lastSuccessfulBackup } : {}),
  };
}

function bridgeStatus(
  enabled: boolean,
  deploy: V1Deployment | undefined,
  current: boolean,
  endpoint: string,
): NonNullable<DSMClusterStatus['bridge']> {
  // The Bridge printer column stays empty without a bridge.
  if (!enabled)
    return { enabled, replicas: 0, readyReplicas: 0, updatedReplicas: 0, ready: '', endpoints: [] };
  const replicas = deploy?.spec?.replicas ?? 1;
  const readyReplicas = deploy?.status?.readyReplicas ?? 0;
  return {
    enabled,
    replicas,
    readyReplicas,
    updatedReplicas: current ? (deploy?.status?.updatedReplicas ?? 0) : 0,
    ready: readyOf(readyReplicas, replicas),
    endpoints: [endpoint],
  };
}

export function phaseOf(conditions: readonly Condition[]): string {
  const is = (type: Condition['type']) => conditions.some((c) => c.type === type && c.status === 'True');
  if (is('Degraded')) return 'Degraded';
  if (is('Progressing')) return 'Progressing';
  if (is('Ready')) return 'Ready';
  return 'Progressing';
}

/**
 * The status of a cluster whose spec fails validation: Degraded and not Ready with the validation message;
 * what was observed before stays (nothing was touched).
 */
export function invalidSpecStatus(cluster: DSMCluster, message: string, now: string): DSMClusterStatus {
  const previous = cluster.status ?? {};
  const text = `the spec is invalid, nothing was changed: ${message}`;
  const conditions = mergeConditions(
    previous.conditions,
    [
      { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: text },
      { type: 'Progressing', status: 'False', reason: 'InvalidSpec', message: text },
      { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message: text },
    ],
    cluster.metadata.generation,
    now,
  );
  return {
    ...previous,
    observedGeneration: cluster.metadata.generation,
    conditions,
    phase: phaseOf(conditions),
  };
}

/** Whether writing `next` would change anything (so a converged resync writes no status). */
export function statusChanged(previous: DSMClusterStatus | undefined, next: DSMClusterStatus): boolean {
  return canonical(previous ?? {}) !== canonical(next);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
