import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import { metadataOf, selectorOf, type ClusterContext } from '../context.js';

export interface DisruptionBudgetProps {
  readonly context: ClusterContext;
  readonly component: 'core' | 'storage';
  /** Pods that must stay available through voluntary disruptions (drains), or... */
  readonly minAvailable?: number;
  /** ...pods that may be down at once. */
  readonly maxUnavailable?: number;
}

/** How many pods of a StatefulSet a node drain may take down. */
export class DisruptionBudget extends Construct {
  constructor(scope: Construct, id: string, props: DisruptionBudgetProps) {
    super(scope, id);
    const { context, component } = props;
    if ((props.minAvailable === undefined) === (props.maxUnavailable === undefined)) {
      throw new Error('a PodDisruptionBudget takes exactly one of minAvailable and maxUnavailable');
    }
    new k8s.KubePodDisruptionBudget(this, 'Resource', {
      metadata: metadataOf(context, context.names[component], component),
      spec: {
        selector: { matchLabels: selectorOf(context, component) },
        ...(props.minAvailable === undefined
          ? {}
          : { minAvailable: k8s.IntOrString.fromNumber(props.minAvailable) }),
        ...(props.maxUnavailable === undefined
          ? {}
          : { maxUnavailable: k8s.IntOrString.fromNumber(props.maxUnavailable) }),
        // A pod that is not ready anyway (crash loop) must not block a drain.
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}
