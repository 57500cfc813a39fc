import { k8s } from '../k8s.js';
import { DATA_VOLUME, type Component } from '../api/names.js';
import { stableLabelsOf, type ClusterContext } from '../context.js';

export interface VolumeSpec {
  size: string | number;
  storageClassName?: string | undefined;
  reclaimPolicy: 'Retain' | 'Delete';
}

const quantity = (value: string | number) =>
  typeof value === 'number' ? k8s.Quantity.fromNumber(value) : k8s.Quantity.fromString(value);

export function claimSpec(volume: VolumeSpec): k8s.PersistentVolumeClaimSpec {
  return {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: quantity(volume.size) } },
    ...(volume.storageClassName === undefined ? {} : { storageClassName: volume.storageClassName }),
  };
}

/**
 * A StatefulSet's claim template: its labels never carry the version, since volumeClaimTemplates cannot
 * change once the StatefulSet exists.
 */
export function claimTemplate(
  ctx: ClusterContext,
  component: Component,
  volume: VolumeSpec,
): k8s.KubePersistentVolumeClaimProps {
  return { metadata: { name: DATA_VOLUME, labels: stableLabelsOf(ctx, component) }, spec: claimSpec(volume) };
}

/** The spec's reclaimPolicy for both ways a pod's volume can lose its pod: cluster deleted, or scaled down. */
export function retentionOf(
  policy: 'Retain' | 'Delete',
): k8s.StatefulSetPersistentVolumeClaimRetentionPolicy {
  return { whenDeleted: policy, whenScaled: policy };
}
