import { k8s } from '../k8s.js';
import { restoreParts } from '../bootstrap.js';
import { Construct } from 'constructs';
import { ANNOTATIONS, PORT_NAMES, PORTS } from '../api/names.js';
import { metadataOf, selectorOf, type ClusterContext } from '../context.js';
import {
  CONFIG_MOUNT,
  configVolume,
  podTemplate,
  SECRETS_MOUNT,
  secretsVolume,
  TMP_MOUNT,
  tmpVolume,
} from '../pod.js';
import { CONFIG_DIR, CONFIG_FILE, DATA_DIRS, SECRET_FILES } from '../settings.js';
import { claimTemplate, retentionOf } from './volume-claim.js';

export interface StorageStatefulSetProps {
  readonly context: ClusterContext;
  /** The ConfigMap holding the storage settings. */
  readonly configMap: string;
  /** Its digest: a change rolls the pods. */
  readonly configDigest: string;
}

/**
 * The storage nodes: one pod and one volume per node, each named and addressed by its pod
 * (`DSM_STORAGE_NODE_ID` = the pod name, advertised as `<pod>.<headless>:8765`).
 *
 * `podManagementPolicy: Parallel`: the nodes are symmetric peers (no bootstrap order; a node is ready once
 * its own RocksDB answers), so OrderedReady would only let one node that cannot start (its volume's zone
 * gone) hold every higher ordinal down. Scaling down, where order matters, is done by the operator one node
 * at a time (`DesiredOptions.storageReplicas`), each drained first.
 */
export class StorageStatefulSet extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: StorageStatefulSetProps) {
    super(scope, id);
    const { context } = props;
    const { storage } = context.spec;
    this.name = context.names.storage;
    const { refs } = context;
    const restore = restoreParts(context, 'storage');
    new k8s.KubeStatefulSet(this, 'Resource', {
      metadata: metadataOf(context, this.name, 'storage'),
      spec: {
        serviceName: context.names.storageHeadless,
        replicas: context.storageReplicas,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: retentionOf(storage.volume.reclaimPolicy),
        selector: { matchLabels: selectorOf(context, 'storage') },
        template: podTemplate(context, {
          component: 'storage',
          configDigest: props.configDigest,
          ...(context.options.peerTokenRevision !== undefined
            ? { annotations: { [ANNOTATIONS.peerTokenRevision]: context.options.peerTokenRevision } }
            : {}),
          resources: storage.resources,
          spreadAcrossNodes: true,
          container: {
            startupSeconds: 120,
            ports: [{ name: PORT_NAMES.storage, containerPort: PORTS.storage, protocol: 'TCP' }],
            env: [
              { name: 'DSM_CONFIG', value: `${CONFIG_DIR}/${CONFIG_FILE}` },
              { name: 'DSM_STORAGE_NODE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              {
                name: 'DSM_STORAGE_ADVERTISE',
                value: `$(DSM_STORAGE_NODE_ID).${context.names.storageHeadless}:${PORTS.storage}`,
              },
              ...restore.env,
            ],
            volumeMounts: [
              { name: 'data', mountPath: DATA_DIRS.storage },
              CONFIG_MOUNT,
              SECRETS_MOUNT,
              TMP_MOUNT,
              ...restore.volumeMounts,
            ],
          },
          volumes: [
            configVolume(props.configMap),
            secretsVolume([
              { file: SECRET_FILES.adminToken, ref: refs.adminToken },
              { file: SECRET_FILES.peerToken, ref: refs.peerToken },
            ]),
            tmpVolume(),
            ...restore.volumes,
          ],
        }),
        volumeClaimTemplates: [claimTemplate(context, 'storage', storage.volume)],
      },
    });
  }
}
