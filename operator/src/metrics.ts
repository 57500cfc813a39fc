/**
 * The operator's metrics, named once (`dsm_operator_*`), on its own prom-client registry as every DSM
 * service does (runtime's `createMetricsRegistry`). Gauges whose value lives elsewhere (queue depth,
 * clusters by phase) read it at scrape time through `sources`, so they can never go stale.
 */
import { Counter, Gauge, Histogram, type Registry } from '@dsm/runtime/metrics';
import type { BackupAge } from './backup-age.js';
import type { CachedKind } from './controller/types.js';

export const METRIC = {
  reconcileTotal: 'dsm_operator_reconcile_total',
  reconcileErrors: 'dsm_operator_reconcile_errors_total',
  reconcileDuration: 'dsm_operator_reconcile_duration_seconds',
  queueDepth: 'dsm_operator_queue_depth',
  apiWrites: 'dsm_operator_api_writes_total',
  isLeader: 'dsm_operator_is_leader',
  informerRestarts: 'dsm_operator_informer_restarts_total',
  clustersManaged: 'dsm_operator_clusters_managed',
  eventsWritten: 'dsm_operator_events_total',
  backupLastSuccess: 'dsm_operator_backup_last_success_timestamp_seconds',
  backupMaxAge: 'dsm_operator_backup_max_age_seconds',
} as const;

export type ReconcileOutcome = 'success' | 'requeue' | 'error';
export type ApiVerb = 'create' | 'update' | 'patch' | 'apply' | 'delete';

/** Reconciles take milliseconds (cache reads, a few applies) to seconds (a slow apiserver). */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Every kind an informer may watch (controller/types.ts's CachedKinds; tsc fails here when one is added):
 * their restart counters start at 0, so a healthy operator exposes `dsm_operator_informer_restarts_total`
 * series and the dashboard's panel shows 0 rather than "No data".
 */
const INFORMER_KINDS: Record<CachedKind, true> = {
  DSMCluster: true,
  StatefulSet: true,
  Deployment: true,
  Service: true,
  ConfigMap: true,
  PodDisruptionBudget: true,
  NetworkPolicy: true,
  Pod: true,
  PersistentVolumeClaim: true,
  CronJob: true,
  Job: true,
  ServiceMonitor: true,
  PrometheusRule: true,
};

export interface MetricSources {
  queueDepth?: () => number;
  /** DSMClusters by `status.phase` (`Unknown` before the first status). */
  clustersByPhase?: () => ReadonlyMap<string, number>;
  /** Clusters with spec.backup: their last good backup and how old it may be (backup-age.ts). */
  backups?: () => readonly BackupAge[];
}

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'result'>;
  reconcileErrors: Counter<never>;
  reconcileDuration: Histogram<'result'>;
  queueDepth: Gauge<never>;
  apiWrites: Counter<'verb' | 'kind'>;
  isLeader: Gauge<never>;
  informerRestarts: Counter<'kind'>;
  clustersManaged: Gauge<'phase'>;
  eventsWritten: Counter<'type' | 'reason' | 'outcome'>;
  backupLastSuccess: Gauge<'dsmcluster_namespace' | 'dsmcluster'>;
  backupMaxAge: Gauge<'dsmcluster_namespace' | 'dsmcluster'>;
  sources: MetricSources;
}

export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  const sources: MetricSources = {};
  return {
    registry,
    sources,
    reconcileTotal: new Counter({
      name: METRIC.reconcileTotal,
      help: 'Reconciles of a DSMCluster, by result (success, requeue: success asking to look again, error).',
      labelNames: ['result'],
      registers,
    }),
    reconcileErrors: new Counter({
      name: METRIC.reconcileErrors,
      help: 'Reconciles that failed and were put back with backoff.',
      registers,
    }),
    reconcileDuration: new Histogram({
      name: METRIC.reconcileDuration,
      help: 'Time one reconcile of one DSMCluster took, by result.',
      labelNames: ['result'],
      buckets: RECONCILE_BUCKETS,
      registers,
    }),
    queueDepth: new Gauge({
      name: METRIC.queueDepth,
      help: 'Cluster keys waiting in the work queue (not counting those being reconciled or delayed).',
      registers,
      collect() {
        this.set(sources.queueDepth?.() ?? 0);
      },
    }),
    apiWrites: new Counter({
      name: METRIC.apiWrites,
      help: 'Writes the operator sent to the apiserver, by verb and object kind.',
      labelNames: ['verb', 'kind'],
      registers,
    }),
    isLeader: new Gauge({
      name: METRIC.isLeader,
      help: '1 while this replica holds the leader Lease and reconciles, 0 on a standby.',
      registers,
    }),
    informerRestarts: zeroed(
      new Counter({
        name: METRIC.informerRestarts,
        help: 'Informers restarted after their list or watch stopped with an error, by kind.',
        labelNames: ['kind'],
        registers,
      }),
    ),
    clustersManaged: new Gauge({
      name: METRIC.clustersManaged,
      help: 'DSMClusters in the watched namespaces, by status phase.',
      labelNames: ['phase'],
      registers,
      collect() {
        this.reset();
        for (const [phase, count] of sources.clustersByPhase?.() ?? []) this.set({ phase }, count);
      },
    }),
    eventsWritten: new Counter({
      name: METRIC.eventsWritten,
      help: 'Kubernetes Events recorded, by type, reason and outcome (created, aggregated, failed).',
      labelNames: ['type', 'reason', 'outcome'],
      registers,
    }),
    backupLastSuccess: new Gauge({
      name: METRIC.backupLastSuccess,
      help: 'Unix time of the last good backup of a DSMCluster with spec.backup (before the first: when its CronJob was made).',
      labelNames: ['dsmcluster_namespace', 'dsmcluster'],
      registers,
      collect() {
        this.reset();
        for (const b of sources.backups?.() ?? [])
          this.set({ dsmcluster_namespace: b.namespace, dsmcluster: b.cluster }, b.lastSuccess);
      },
    }),
    backupMaxAge: new Gauge({
      name: METRIC.backupMaxAge,
      help: "How old a DSMCluster's last good backup may be: the longest gap of its schedule plus an hour.",
      labelNames: ['dsmcluster_namespace', 'dsmcluster'],
      registers,
      collect() {
        this.reset();
        for (const b of sources.backups?.() ?? [])
          this.set({ dsmcluster_namespace: b.namespace, dsmcluster: b.cluster }, b.maxAgeSeconds);
      },
    }),
  };
}

function zeroed(counter: Counter<'kind'>): Counter<'kind'> {
  for (const kind of Object.keys(INFORMER_KINDS)) counter.inc({ kind }, 0);
  return counter;
}
