import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { metadataOf, type ClusterContext } from '../context.js';
import { RULE_GROUPS } from '../generated/rules.js';

export interface AlertRulesProps {
  readonly context: ClusterContext;
}

/** The DSM alerts as a PrometheusRule: the groups of compose/prometheus/rules/*.yml, unchanged. */
export class AlertRules extends Construct {
  constructor(scope: Construct, id: string, props: AlertRulesProps) {
    super(scope, id);
    const { context } = props;
    new ApiObject(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: metadataOf(context, context.names.alerts, 'monitoring', {
        labels: context.spec.monitoring.prometheusRule.labels ?? {},
      }),
      spec: { groups: structuredClone(RULE_GROUPS) },
    });
  }
}
