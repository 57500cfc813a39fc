/**
 * Facts about live StatefulSets, Deployments and Pods, read the way their controllers mean them: which
 * pods exist, run the latest revision and are ready, and whether a workload has finished rolling out.
 */
import type { V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { LABELS } from '@dsm/cdk8s';

const REVISION = 'controller-revision-hash';

export interface PodFact {
  name: string;
  ordinal: number;
  exists: boolean;
  ready: boolean;
  /** Runs the StatefulSet's update revision. */
  updated: boolean;
  /** Phase or a short reason for messages (`Pending`, `missing`, `not ready`). */
  state: string;
}

export function podReady(pod: V1Pod | undefined): boolean {
  return pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** The version a workload's pods are made with: the version label of its template, else the image tag. */
export function templateVersion(workload: V1StatefulSet | V1Deployment | undefined): string | undefined {
  const template = workload?.spec?.template;
  if (template === undefined) return undefined;
  const label = template.metadata?.labels?.[LABELS.version];
  if (label) return label;
  const image = template.spec?.containers?.[0]?.image;
  const tag = image?.slice(image.lastIndexOf(':') + 1);
  return tag && !tag.includes('/') ? tag : undefined;
}

/** Pods `<statefulset>-0` .. `<statefulset>-(count-1)` as the StatefulSet controller sees them. */
export function statefulSetPods(
  sts: V1StatefulSet | undefined,
  pods: readonly V1Pod[],
  name: string,
  count: number,
): PodFact[] {
  const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
  const revision = sts?.status?.updateRevision;
  return Array.from({ length: count }, (_, ordinal) => {
    const podName = `${name}-${ordinal}`;
    const pod = byName.get(podName);
    const ready = podReady(pod);
    const terminating = pod?.metadata?.deletionTimestamp !== undefined;
    return {
      name: podName,
      ordinal,
      exists: pod !== undefined && !terminating,
      ready: ready && !terminating,
      updated: pod !== undefined && revision !== undefined && pod.metadata?.labels?.[REVISION] === revision,
      state:
        pod === undefined
          ? 'missing'
          : terminating
            ? 'terminating'
            : ready
              ? 'ready'
              : (pod.status?.phase ?? 'Pending') === 'Running'
                ? 'not ready'
                : (pod.status?.phase ?? 'Pending'),
    };
  });
}

/** The controller has seen the latest spec of the StatefulSet and moved every pod to it. */
export function statefulSetRolledOut(sts: V1StatefulSet | undefined): boolean {
  const s = sts?.status;
  if (sts === undefined || s === undefined) return false;
  const replicas = sts.spec?.replicas ?? 1;
  return (
    (s.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0) &&
    s.updateRevision !== undefined &&
    s.currentRevision === s.updateRevision &&
    (s.updatedReplicas ?? 0) >= replicas &&
    (s.replicas ?? 0) === replicas
  );
}

/** The Deployment controller has seen the latest spec and every pod runs it (no old pods left). */
export function deploymentRolledOut(deploy: V1Deployment | undefined): boolean {
  const s = deploy?.status;
  if (deploy === undefined || s === undefined) return false;
  const replicas = deploy.spec?.replicas ?? 1;
  return (
    (s.observedGeneration ?? 0) >= (deploy.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= replicas &&
    (s.replicas ?? 0) === (s.updatedReplicas ?? 0)
  );
}

export function readyReplicas(workload: V1StatefulSet | V1Deployment | undefined): number {
  return workload?.status?.readyReplicas ?? 0;
}
