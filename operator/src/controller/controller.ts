/**
 * The controller loop: informer events → cluster keys in the work queue → N workers calling the reconciler.
 * A failed reconcile goes back with the key's backoff; a successful one resets it (and comes back after
 * `requeueAfterMs` when asked). A periodic resync enqueues every cluster, so a change an event missed is
 * still reconciled within one resync period; the reconcile of a key the resync enqueued is told so
 * (`{ resync: true }`), so what the reconciler only remembers (no informer shows it) is checked again.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '@dsm/runtime/log';
import { names } from '@dsm/cdk8s';
import { backupAges } from '../backup-age.js';
import { LOG } from '../log-fields.js';
import type { OperatorMetrics, ReconcileOutcome } from '../metrics.js';
import { clusterKeyOf, type InformerListener, type InformerVerb } from './informers.js';
import { WorkQueue } from './queue.js';
import { keyString, parseKey, type CachedKind, type ObjectCache, type Reconciler } from './types.js';

export interface ControllerOptions {
  reconciler: Reconciler;
  cache: ObjectCache;
  /** Registers the controller's listener for informer events. */
  onEvent: (listener: InformerListener) => void;
  metrics: OperatorMetrics;
  log: Logger;
  workers: number;
  /** Every cluster is enqueued this often; 0: never. */
  resyncMs: number;
  queue?: WorkQueue;
}

/** Phase counts of the DSMClusters in the cache (for `dsm_operator_clusters_managed`). */
export function countByPhase(clusters: readonly { status?: { phase?: string } }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const cluster of clusters) {
    const phase = cluster.status?.phase || 'Unknown';
    counts.set(phase, (counts.get(phase) ?? 0) + 1);
  }
  return counts;
}

export class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Keys the periodic resync enqueued and no worker took yet: at most one per cluster in the cache. */
  private readonly resyncing = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly options: ControllerOptions) {
    this.queue = options.queue ?? new WorkQueue();
    this.log = options.log.child({ [LOG.component]: 'controller' });
    options.metrics.sources.queueDepth = () => this.queue.depth;
    options.metrics.sources.clustersByPhase = () => countByPhase(options.cache.list('DSMCluster', undefined));
    options.metrics.sources.backups = () =>
      backupAges(
        options.cache.list('DSMCluster', undefined),
        (namespace, cluster) =>
          options.cache.get('CronJob', namespace, names(cluster).backup)?.metadata?.creationTimestamp as
            string | undefined,
        new Date(),
      );
    options.onEvent((kind, verb, object) => this.enqueueFor(kind, verb, object));
  }

  start(): void {
    // Events that arrived before start are already queued; enqueue the rest (a cache filled earlier).
    this.enqueueAll(false);
    for (let i = 0; i < this.options.workers; i++) this.workers.push(this.work());
    if (this.options.resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.options.resyncMs);
      this.resyncTimer.unref();
    }
    this.log.info({ workers: this.options.workers, resyncMs: this.options.resyncMs }, 'controller started');
  }

  /** Stops handing out keys and waits for the reconciles in flight to finish. */
  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    this.queue.shutdown();
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** The periodic resync: enqueues every DSMCluster in the cache, each reconcile told it is a resync. */
  resync(): void {
    this.enqueueAll(true);
  }

  private enqueueAll(resync: boolean): void {
    if (resync) this.resyncing.clear();
    for (const cluster of this.options.cache.list('DSMCluster', undefined)) {
      const { namespace, name } = cluster.metadata;
      if (!namespace || !name) continue;
      const key = keyString({ namespace, name });
      if (resync) this.resyncing.add(key);
      this.queue.add(key);
    }
  }

  private enqueueFor(kind: CachedKind, verb: InformerVerb, object: KubernetesObject): void {
    const key = clusterKeyOf(kind, object);
    if (key === undefined) return;
    this.log.trace(
      { [LOG.kind]: kind, verb, [LOG.name]: object.metadata?.name, [LOG.cluster]: keyString(key) },
      'event',
    );
    this.queue.add(keyString(key));
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.reconcileOne(key);
    }
  }

  private async reconcileOne(key: string): Promise<void> {
    const { reconciler, metrics } = this.options;
    const started = process.hrtime.bigint();
    let outcome: ReconcileOutcome = 'success';
    const resync = this.resyncing.delete(key);
    try {
      const result = await reconciler.reconcile(parseKey(key), { resync });
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs >= 0) {
        outcome = 'requeue';
        this.queue.addAfter(key, result.requeueAfterMs);
      }
    } catch (err) {
      outcome = 'error';
      metrics.reconcileErrors.inc();
      this.queue.addRateLimited(key);
      this.log.error(
        { [LOG.cluster]: key, [LOG.err]: err, [LOG.retries]: this.queue.retries(key) },
        'reconcile failed; retrying with backoff',
      );
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.reconcileTotal.inc({ result: outcome });
      metrics.reconcileDuration.observe({ result: outcome }, seconds);
      this.log.debug(
        { [LOG.cluster]: key, [LOG.durationMs]: Math.round(seconds * 1000), outcome },
        'reconciled',
      );
      this.queue.done(key);
    }
  }
}
