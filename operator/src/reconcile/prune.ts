/**
 * Which live objects of a cluster are no longer desired and may be deleted: only kinds the operator makes,
 * only those whose controller owner reference is this very cluster (uid), never PersistentVolumeClaims
 * (their StatefulSet's retention policy decides) and never objects marked to be retained or generated
 * Secrets (a keystore key that went would lock data out).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATIONS } from '@dsm/cdk8s';

/** The kinds desired objects come in, as the cache names them. */
export const PRUNABLE_KINDS = [
  'StatefulSet',
  'Deployment',
  'Service',
  'ConfigMap',
  'PodDisruptionBudget',
  'NetworkPolicy',
  'CronJob',
  'ServiceMonitor',
  'PrometheusRule',
] as const;
export type PrunableKind = (typeof PRUNABLE_KINDS)[number];

export const API_VERSIONS: Record<PrunableKind, string> = {
  StatefulSet: 'apps/v1',
  Deployment: 'apps/v1',
  Service: 'v1',
  ConfigMap: 'v1',
  PodDisruptionBudget: 'policy/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  CronJob: 'batch/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  PrometheusRule: 'monitoring.coreos.com/v1',
};

const keyOf = (o: KubernetesObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export function ownedBy(object: KubernetesObject, uid: string): boolean {
  return (object.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

/** Live objects (labelled with the cluster) that are not desired and are safe to delete. */
export function toPrune(
  live: readonly KubernetesObject[],
  desired: readonly KubernetesObject[],
  clusterUid: string,
): KubernetesObject[] {
  const wanted = new Set(desired.map(keyOf));
  return live.filter(
    (o) =>
      (PRUNABLE_KINDS as readonly string[]).includes(o.kind ?? '') &&
      !wanted.has(keyOf(o)) &&
      o.metadata?.deletionTimestamp === undefined &&
      ownedBy(o, clusterUid) &&
      o.metadata?.annotations?.[ANNOTATIONS.reclaimPolicy] !== 'Retain' &&
      o.metadata?.annotations?.[ANNOTATIONS.generated] === undefined,
  );
}
