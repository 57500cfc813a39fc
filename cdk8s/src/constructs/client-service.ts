import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import { LABELS, type Component } from '../api/names.js';
import { metadataOf, selectorOf, type ClusterContext } from '../context.js';
import type { ServicePort } from './headless-service.js';

export interface ClientServiceProps {
  readonly context: ClusterContext;
  readonly component: Component;
  readonly ports: readonly ServicePort[];
}

/** The one address clients use (`<cluster>-<component>`): ready pods only, any of them. */
export class ClientService extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: ClientServiceProps) {
    super(scope, id);
    const { context, component } = props;
    this.name = context.names[component];
    new k8s.KubeService(this, 'Resource', {
      metadata: metadataOf(context, this.name, component, { labels: { [LABELS.serviceKind]: 'client' } }),
      spec: {
        type: 'ClusterIP',
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
