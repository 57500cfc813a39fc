import { k8s } from '../k8s.js';
import { restoreParts } from '../bootstrap.js';
import { Construct } from 'constructs';
import { PORT_NAMES, PORTS } from '../api/names.js';
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

export interface CoreStatefulSetProps {
  readonly context: ClusterContext;
  /** The ConfigMap holding the core settings. */
  readonly configMap: string;
  /** Its digest: a change rolls the pods. */
  readonly configDigest: string;
}

/**
 * The core nodes: a StatefulSet because custody is per pod: each pod's volume holds the keystore of the
 * identities created on it, so a pod must come back to its own volume. OrderedReady (the default): a
 * scale-down removes the newest pod first and one at a time, since the identities it hosts are unreachable
 * until it returns.
 */
export class CoreStatefulSet extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: CoreStatefulSetProps) {
    super(scope, id);
    const { context } = props;
    const { core } = context.spec;
    const { refs } = context;
    const restore = restoreParts(context, 'core');
    this.name = context.names.core;
    new k8s.KubeStatefulSet(this, 'Resource', {
      metadata: metadataOf(context, this.name, 'core'),
      spec: {
        serviceName: context.names.coreHeadless,
        replicas: core.replicas,
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: retentionOf(core.volume.reclaimPolicy),
        selector: { matchLabels: selectorOf(context, 'core') },
        template: podTemplate(context, {
          component: 'core',
          configDigest: props.configDigest,
          resources: core.resources,
          spreadAcrossNodes: true,
          container: {
            startupSeconds: 120,
            ports: [
              { name: PORT_NAMES.coreApi, containerPort: PORTS.coreApi, protocol: 'TCP' },
              { name: PORT_NAMES.coreP2p, containerPort: PORTS.coreP2p, protocol: 'TCP' },
            ],
            env: [{ name: 'DSM_CONFIG', value: `${CONFIG_DIR}/${CONFIG_FILE}` }, ...restore.env],
            volumeMounts: [
              { name: 'data', mountPath: DATA_DIRS.core },
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
              { file: SECRET_FILES.apiToken, ref: refs.apiToken },
              { file: SECRET_FILES.keystoreKey, ref: refs.keystoreKey },
            ]),
            tmpVolume(),
            ...restore.volumes,
          ],
        }),
        volumeClaimTemplates: [claimTemplate(context, 'core', core.volume)],
      },
    });
  }
}
