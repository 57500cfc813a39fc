import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import { ANNOTATIONS } from '../api/names.js';
import { metadataOf, type ClusterContext } from '../context.js';
import { claimSpec } from './volume-claim.js';

export interface BridgeVolumeProps {
  readonly context: ClusterContext;
}

/**
 * The bridge's journal (a Deployment has no claim templates). With reclaimPolicy Retain it has no owner
 * reference, so deleting the cluster leaves it, as the StatefulSets leave theirs.
 */
export class BridgeVolume extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: BridgeVolumeProps) {
    super(scope, id);
    const { context } = props;
    const { volume } = context.spec.bridge;
    this.name = context.names.bridgeData;
    const retain = volume.reclaimPolicy === 'Retain';
    new k8s.KubePersistentVolumeClaim(this, 'Resource', {
      metadata: metadataOf(context, this.name, 'bridge', {
        owned: !retain,
        ...(retain ? { annotations: { [ANNOTATIONS.reclaimPolicy]: 'Retain' } } : {}),
      }),
      spec: claimSpec(volume),
    });
  }
}
