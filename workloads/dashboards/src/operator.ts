/**
 * DSM Operator: the DSMCluster operator (operator/src/metrics.ts): which replica leads, how many clusters it
 * manages and in which phase, whether its queue drains, how its reconciles go and what they write, and
 * its own memory and CPU (RSS is one of its performance goals).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RATE, dsmDashboard, finish, row, statPanel, timeSeries } from './panels.js';

const OPERATOR = 'job="dsm-operator"';

export function operatorDashboard(): Dashboard {
  return finish(
    dsmDashboard(
      'dsm-operator',
      'DSM Operator',
      'The DSMCluster operator: leader, clusters by phase, work queue, backup age, reconciles (rate, errors, duration), API writes, Events, informer restarts, memory and CPU.',
    )
      .withRow(row('Control'))
      .withPanel(
        statPanel({
          title: 'Leader',
          description:
            'Which operator replica holds the leader Lease and reconciles (1); the others stand by (0). Exactly one should lead.',
          unit: 'short',
          queries: [{ expr: `dsm_operator_is_leader{${OPERATOR}}`, legend: '{{instance}}' }],
          mappings: { 0: ['standby', 'blue'], 1: ['leader', 'green'] },
          thresholds: [[null, 'blue']],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Clusters by phase',
          description:
            'DSMClusters the leader manages, by status.phase (Ready, Progressing, Degraded). Degraded ones name the cause in their conditions: kubectl describe dsmcluster <name>.',
          unit: 'short',
          queries: [
            { expr: `sum by (phase) (dsm_operator_clusters_managed{${OPERATOR}})`, legend: '{{phase}}' },
          ],
          thresholds: [[null, 'green']],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Work queue depth',
          description:
            'Cluster keys waiting for a worker. It should return to 0 between events; a depth that stays up means reconciles are slower than changes arrive (raise DSM_OPERATOR_WORKERS).',
          unit: 'short',
          min: 0,
          queries: [{ expr: `dsm_operator_queue_depth{${OPERATOR}}`, legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Informer restarts',
          description:
            'Watches of the apiserver that broke and were restarted with backoff, by kind. Occasional restarts are normal (apiserver restarts, expired watches); a steady rate points at the apiserver or RBAC.',
          unit: 'short',
          min: 0,
          queries: [
            {
              expr: `sum by (kind) (increase(dsm_operator_informer_restarts_total{${OPERATOR}}[${RATE}]))`,
              legend: '{{kind}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Backup age',
          description:
            "Age of each DSMCluster's last good backup (spec.backup; before the first one, since its CronJob was made), next to how old it may be (its schedule's longest gap plus an hour): DsmBackupTooOld fires when the age stays above it for 10 minutes.",
          unit: 's',
          min: 0,
          queries: [
            {
              expr: `time() - max by (dsmcluster_namespace, dsmcluster) (dsm_operator_backup_last_success_timestamp_seconds{${OPERATOR}})`,
              legend: '{{dsmcluster_namespace}}/{{dsmcluster}}',
            },
            {
              expr: `max by (dsmcluster_namespace, dsmcluster) (dsm_operator_backup_max_age_seconds{${OPERATOR}})`,
              legend: '{{dsmcluster_namespace}}/{{dsmcluster}} allowed',
            },
          ],
        }),
      )
      .withRow(row('Reconciles'))
      .withPanel(
        timeSeries({
          title: 'Reconciles by result',
          description:
            'Reconciles per second by result: success, requeue (done for now, looking again soon: a roll or catch-up in progress) and error (retried with backoff).',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (result) (rate(dsm_operator_reconcile_total{${OPERATOR}}[${RATE}]))`,
              legend: '{{result}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Reconcile errors',
          description:
            'Failed reconciles per second. The cluster keeps its last good objects; the operator log and the cluster Events say why.',
          unit: 'ops',
          min: 0,
          queries: [
            {
              expr: `sum(rate(dsm_operator_reconcile_errors_total{${OPERATOR}}[${RATE}]))`,
              legend: 'errors',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Reconcile duration',
          description: 'Time one reconcile of one DSMCluster takes: median and 99th percentile.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(dsm_operator_reconcile_duration_seconds_bucket{${OPERATOR}}[${RATE}])))`,
              legend: 'p50',
            },
            {
              expr: `histogram_quantile(0.99, sum by (le) (rate(dsm_operator_reconcile_duration_seconds_bucket{${OPERATOR}}[${RATE}])))`,
              legend: 'p99',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'API writes',
          description:
            'Writes the operator sends to the apiserver, by verb and kind. A converged cluster costs none: a steady rate with no spec change means something fights the operator over a field.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (verb, kind) (rate(dsm_operator_api_writes_total{${OPERATOR}}[${RATE}]))`,
              legend: '{{verb}} {{kind}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Events',
          description: 'Kubernetes Events the operator wrote (condition transitions), by type and reason.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (type, reason) (rate(dsm_operator_events_total{${OPERATOR}}[${RATE}]))`,
              legend: '{{type}} {{reason}}',
            },
          ],
        }),
      )
      .withRow(row('Process'))
      .withPanel(
        timeSeries({
          title: 'Memory',
          description:
            'Resident memory of each operator replica and its V8 heap in use (the goal: at most 150 MB resident).',
          unit: 'bytes',
          queries: [
            { expr: `process_resident_memory_bytes{${OPERATOR}}`, legend: '{{instance}} resident' },
            { expr: `nodejs_heap_size_used_bytes{${OPERATOR}}`, legend: '{{instance}} heap used' },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'CPU',
          description: 'CPU time each operator replica uses per second (1 = one core busy).',
          unit: 'short',
          queries: [
            { expr: `rate(process_cpu_seconds_total{${OPERATOR}}[${RATE}])`, legend: '{{instance}}' },
          ],
        }),
      ),
  );
}
