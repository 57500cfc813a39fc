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

export interface BridgeDeploymentProps {
  readonly context: ClusterContext;
  /** The ConfigMap holding the bridge settings. */
  readonly configMap: string;
  /** Its digest: a change rolls the pod. */
  readonly configDigest: string;
  /** The bridge's PersistentVolumeClaim. */
  readonly claim: string;
}

/**
 * The bridge: one pod, replaced with Recreate, never two at once: one bridge identity signs mints and
 * spends from one DSM chain, and two writers of its journal would release a deposit twice.
 */
export class BridgeDeployment extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: BridgeDeploymentProps) {
    super(scope, id);
    const { context } = props;
    const { bridge } = context.spec;
    const { refs } = context;
    const restore = restoreParts(context, 'bridge');
    this.name = context.names.bridge;
    if (refs.bridgeDsmKey === undefined || bridge.signerKeySecret === undefined) {
      throw new Error('an enabled bridge needs bridge.signerKeySecret (the CRD refuses a spec without it)');
    }
    new k8s.KubeDeployment(this, 'Resource', {
      metadata: metadataOf(context, this.name, 'bridge'),
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: selectorOf(context, 'bridge') },
        template: podTemplate(context, {
          component: 'bridge',
          configDigest: props.configDigest,
          resources: bridge.resources,
          container: {
            // The image's HEALTHCHECK start period: the bridge scans the EVM chain from fromBlock first.
            startupSeconds: 180,
            ports: [{ name: PORT_NAMES.bridge, containerPort: PORTS.bridge, protocol: 'TCP' }],
            env: [{ name: 'DSM_CONFIG', value: `${CONFIG_DIR}/${CONFIG_FILE}` }, ...restore.env],
            volumeMounts: [
              { name: 'data', mountPath: DATA_DIRS.bridge },
              CONFIG_MOUNT,
              SECRETS_MOUNT,
              TMP_MOUNT,
              ...restore.volumeMounts,
            ],
          },
          volumes: [
            { name: 'data', persistentVolumeClaim: { claimName: props.claim } },
            configVolume(props.configMap),
            secretsVolume([
              { file: SECRET_FILES.adminToken, ref: refs.adminToken },
              { file: SECRET_FILES.bridgeDsmKey, ref: refs.bridgeDsmKey },
              { file: SECRET_FILES.bridgeEvmKey, ref: bridge.signerKeySecret },
              ...(bridge.rpcSecret === undefined
                ? []
                : [{ file: SECRET_FILES.bridgeRpcUrl, ref: bridge.rpcSecret }]),
            ]),
            tmpVolume(),
            ...restore.volumes,
          ],
        }),
      },
    });
  }
}
