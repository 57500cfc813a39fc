/**
 * The contract between the controller infrastructure (informers, queue, leader election, events, metrics)
 * and the reconciler: the reconciler gets a key and a context, and answers when to look again.
 */
import type {
  KubeConfig,
  V1CronJob,
  V1Job,
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { DSMCluster } from '@dsm/cdk8s';
import type { Logger } from '@dsm/runtime/log';
import type { OperatorMetrics } from '../metrics.js';

export interface ClusterKey {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  /** Reconcile again after this long even without an event (a roll waiting on a pod). */
  requeueAfterMs?: number;
}

/** Why a reconcile runs. */
export interface ReconcileTrigger {
  /**
   * The periodic resync enqueued this key (not an informer event, a requeue or a retry): what the
   * reconciler only remembers, and no informer would show changed, is to be checked again.
   */
  resync: boolean;
}

export interface Reconciler {
  reconcile(key: ClusterKey, trigger?: ReconcileTrigger): Promise<ReconcileResult>;
}

/** A Prometheus operator object (ServiceMonitor, PrometheusRule): no typed model in client-node. */
export interface MonitoringObject extends KubernetesObject {
  spec?: Record<string, unknown>;
}

/**
 * The objects the informers cache, by kind. Objects are the apiserver's JSON (timestamps are strings).
 * No Secret: the operator holds no Secret read (it creates the generated ones and reads only its own key).
 */
export interface CachedKinds {
  DSMCluster: DSMCluster;
  StatefulSet: V1StatefulSet;
  Deployment: V1Deployment;
  Service: V1Service;
  ConfigMap: V1ConfigMap;
  PodDisruptionBudget: V1PodDisruptionBudget;
  NetworkPolicy: V1NetworkPolicy;
  Pod: V1Pod;
  PersistentVolumeClaim: V1PersistentVolumeClaim;
  CronJob: V1CronJob;
  Job: V1Job;
  ServiceMonitor: MonitoringObject;
  PrometheusRule: MonitoringObject;
}

export type CachedKind = keyof CachedKinds;

/** Read access to the informers' stores: observing never costs an API request. */
export interface ObjectCache {
  get<K extends CachedKind>(kind: K, namespace: string, name: string): CachedKinds[K] | undefined;
  /** Objects of `kind` in `namespace` (every watched namespace when undefined) whose labels include `labelSelector`. */
  list<K extends CachedKind>(
    kind: K,
    namespace: string | undefined,
    labelSelector?: Record<string, string>,
  ): readonly CachedKinds[K][];
}

export type EventType = 'Normal' | 'Warning';

/** The DSMCluster an Event is about (what `regarding` needs). */
export interface EventSubject {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  /**
   * Writes an events.k8s.io/v1 Event regarding `cluster`; the same reason and message within 10 minutes bump
   * the series count of the first Event instead of creating another. Never rejects: a lost Event is logged.
   */
  event(cluster: EventSubject, type: EventType, reason: string, message: string): Promise<void>;
}

export interface Capabilities {
  serviceMonitor: boolean;
  prometheusRule: boolean;
}

/** What a reconciler gets: the caches of the informers (no API reads for observing), the API clients, metrics, logger. */
export interface ControllerContext {
  kubeConfig: KubeConfig;
  /** Cached objects by kind, filled by informers (DSMCluster, StatefulSet, Deployment, Service, ConfigMap (only those labelled dsm.io/cluster), PodDisruptionBudget, NetworkPolicy, Pod, PersistentVolumeClaim, ServiceMonitor/PrometheusRule when their CRDs exist). */
  cache: ObjectCache;
  capabilities(): Capabilities;
  metrics: OperatorMetrics;
  log: Logger;
  events: EventRecorder;
}

/** The queue's key of a cluster: `namespace/name` (neither may contain a slash). */
export function keyString(key: ClusterKey): string {
  return `${key.namespace}/${key.name}`;
}

export function parseKey(key: string): ClusterKey {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) throw new Error(`not a cluster key: "${key}"`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
