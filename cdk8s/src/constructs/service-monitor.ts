import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { LABELS, type Component } from '../api/names.js';
import { metadataOf, selectorOf, type ClusterContext } from '../context.js';

/** The compose file's Prometheus job of each component: the alert rules select by it (`up{job="dsm-core"}`). */
export const JOBS: Record<Component, string> = {
  core: 'dsm-core',
  storage: 'dsm-storage',
  bridge: 'dsm-ethereum-bridge',
};

export interface ServiceMonitorProps {
  readonly context: ClusterContext;
  readonly component: Component;
  /** The port serving /metrics (the core's P2P port, as in compose/prometheus/prometheus.yml). */
  readonly port: string;
}

/**
 * A Prometheus operator ServiceMonitor scraping every pod of a component through its client Service, with
 * the compose file's job name so the same alert rules and dashboards work.
 */
export class ServiceMonitor extends Construct {
  constructor(scope: Construct, id: string, props: ServiceMonitorProps) {
    super(scope, id);
    const { context, component } = props;
    const { serviceMonitor } = context.spec.monitoring;
    new ApiObject(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: metadataOf(context, context.names[component], component, {
        labels: serviceMonitor.labels ?? {},
      }),
      spec: {
        selector: { matchLabels: { ...selectorOf(context, component), [LABELS.serviceKind]: 'client' } },
        endpoints: [
          {
            port: props.port,
            path: '/metrics',
            interval: serviceMonitor.interval,
            relabelings: [
              { action: 'replace', targetLabel: 'job', replacement: JOBS[component] },
              // dsm_http_request_duration_seconds has a `service` label of its own (prometheus.yml says so).
              { action: 'labeldrop', regex: 'service' },
            ],
          },
        ],
      },
    });
  }
}
