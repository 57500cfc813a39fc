import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import { LABELS } from '../api/names.js';
import { metadataOf, selectorOf, type ClusterContext } from '../context.js';

export interface ServicePort {
  readonly name: string;
  readonly port: number;
}

export interface HeadlessServiceProps {
  readonly context: ClusterContext;
  readonly component: 'core' | 'storage';
  readonly ports: readonly ServicePort[];
}

/**
 * The governing Service of a StatefulSet: a DNS name per pod (`<pod>.<service>`), published before the pod
 * is ready so peers find each other while they start (a storage node is ready only once it can serve).
 */
export class HeadlessService extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: HeadlessServiceProps) {
    super(scope, id);
    const { context, component } = props;
    this.name = component === 'core' ? context.names.coreHeadless : context.names.storageHeadless;
    new k8s.KubeService(this, 'Resource', {
      metadata: metadataOf(context, this.name, component, { labels: { [LABELS.serviceKind]: 'headless' } }),
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses: true,
        selector: selectorOf(context, component),
        ports: props.ports.map(({ name, port }) => ({
          name,
          port,
          targetPort: k8s.IntOrString.fromString(name),
          protocol: 'TCP',
        })),
      },
    });
  }
}
