import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import { metadataOf, type ClusterContext } from '../context.js';
import { DASHBOARD_FILES } from '../generated/dashboards.js';

export interface DashboardsProps {
  readonly context: ClusterContext;
}

/** The Grafana dashboards (dashboards/*.json, embedded by `npm run generate`) for Grafana's sidecar. */
export class Dashboards extends Construct {
  constructor(scope: Construct, id: string, props: DashboardsProps) {
    super(scope, id);
    const { context } = props;
    new k8s.KubeConfigMap(this, 'Resource', {
      metadata: metadataOf(context, context.names.dashboards, 'monitoring', {
        labels: context.spec.monitoring.dashboards.labels,
      }),
      data: { ...DASHBOARD_FILES },
    });
  }
}
