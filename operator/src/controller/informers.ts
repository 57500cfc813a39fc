/**
 * Informers (client-node ListWatch) for every kind the reconciler observes, in the watched namespaces, and
 * the ObjectCache over their stores. client-node's informer stops for good on an error that is not a
 * timeout (apiserver restarted, CRD deleted, RBAC missing): each one here restarts itself with capped,
 * jittered exponential backoff, counted in `dsm_operator_informer_restarts_total`. ServiceMonitor and
 * PrometheusRule are watched only while API discovery says their CRDs exist, checked again periodically.
 * Secrets are not watched at all: the operator only creates them (RBAC `create`, no read), see
 * reconcile.ts.
 */
import {
  ApiException,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { API_VERSION, KIND, LABELS } from '@dsm/cdk8s';
import type { Logger } from '@dsm/runtime/log';
import { LOG } from '../log-fields.js';
import type { OperatorMetrics } from '../metrics.js';
import { HttpMethod, rawRequest } from './raw.js';
import { slim } from './slim.js';
import type { Capabilities, CachedKind, CachedKinds, ClusterKey, ObjectCache } from './types.js';

export const MONITORING_GROUP = 'monitoring.coreos.com';
export const MONITORING_VERSION = 'v1';

export interface KindSpec {
  kind: CachedKind;
  apiVersion: string;
  plural: string;
  /** Only objects carrying the cluster label: children of a DSMCluster, not everything in the namespace. */
  clusterLabelled: boolean;
  /** Watched only when discovery finds this capability. */
  capability?: keyof Capabilities;
}

export const WATCHED_KINDS: readonly KindSpec[] = [
  { kind: 'DSMCluster', apiVersion: API_VERSION, plural: 'dsmclusters', clusterLabelled: false },
  { kind: 'StatefulSet', apiVersion: 'apps/v1', plural: 'statefulsets', clusterLabelled: true },
  { kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments', clusterLabelled: true },
  { kind: 'Service', apiVersion: 'v1', plural: 'services', clusterLabelled: true },
  { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', clusterLabelled: true },
  {
    kind: 'PodDisruptionBudget',
    apiVersion: 'policy/v1',
    plural: 'poddisruptionbudgets',
    clusterLabelled: true,
  },
  {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    plural: 'networkpolicies',
    clusterLabelled: true,
  },
  { kind: 'Pod', apiVersion: 'v1', plural: 'pods', clusterLabelled: true },
  {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    plural: 'persistentvolumeclaims',
    clusterLabelled: true,
  },
  // spec.backup's CronJob, and its Jobs: how the last backups went (the status).
  { kind: 'CronJob', apiVersion: 'batch/v1', plural: 'cronjobs', clusterLabelled: true },
  { kind: 'Job', apiVersion: 'batch/v1', plural: 'jobs', clusterLabelled: true },
  {
    kind: 'ServiceMonitor',
    apiVersion: `${MONITORING_GROUP}/${MONITORING_VERSION}`,
    plural: 'servicemonitors',
    clusterLabelled: true,
    capability: 'serviceMonitor',
  },
  {
    kind: 'PrometheusRule',
    apiVersion: `${MONITORING_GROUP}/${MONITORING_VERSION}`,
    plural: 'prometheusrules',
    clusterLabelled: true,
    capability: 'prometheusRule',
  },
];

/** The collection path of a kind (`/apis/apps/v1/namespaces/prod/statefulsets`; all namespaces without one). */
export function collectionPath(
  spec: Pick<KindSpec, 'apiVersion' | 'plural'>,
  namespace: string | undefined,
): string {
  const prefix = spec.apiVersion.includes('/') ? `/apis/${spec.apiVersion}` : `/api/${spec.apiVersion}`;
  return `${prefix}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${spec.plural}`;
}

/** The label selector an informer of `spec` lists and watches with: the cluster label's presence. */
export function labelSelectorOf(spec: KindSpec): string | undefined {
  return spec.clusterLabelled ? LABELS.cluster : undefined;
}

/**
 * The cluster an object's event concerns: the DSMCluster itself, the DSMCluster owning it (ownerReference),
 * or the one named by its `dsm.io/cluster` label (pods and PVCs are owned by a StatefulSet, not the cluster).
 */
export function clusterKeyOf(kind: CachedKind, object: KubernetesObject): ClusterKey | undefined {
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name;
  if (!namespace || !name) return undefined;
  if (kind === 'DSMCluster') return { namespace, name };
  const owner = object.metadata?.ownerReferences?.find(
    (ref) => ref.kind === KIND && ref.apiVersion.split('/')[0] === API_VERSION.split('/')[0],
  );
  if (owner) return { namespace, name: owner.name };
  const label = object.metadata?.labels?.[LABELS.cluster];
  return label ? { namespace, name: label } : undefined;
}

/** Whether `labels` include every pair of `selector`. */
export function matchesLabels(
  labels: Readonly<Record<string, string>> | undefined,
  selector: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

export interface RestartBackoff {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay taken off at random (0.2: 80–100 % of it), so informers do not restart in step. */
  jitter: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { baseMs: 500, maxMs: 30_000, jitter: 0.2 };

/** Delay before restart number `attempt` (0 first): base·2^attempt capped at maxMs, minus up to `jitter` of it. */
export function restartDelay(attempt: number, backoff: RestartBackoff, random: () => number = Math.random) {
  const capped = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(capped * (1 - backoff.jitter * random()));
}

export type InformerVerb = 'add' | 'update' | 'delete';
export type InformerListener = (kind: CachedKind, verb: InformerVerb, object: KubernetesObject) => void;

interface InformerOptions {
  kubeConfig: KubeConfig;
  spec: KindSpec;
  namespace: string | undefined;
  log: Logger;
  metrics?: OperatorMetrics;
  backoff: RestartBackoff;
  onEvent: InformerListener;
}

/**
 * Lists and watches the apiserver's raw JSON (client-node's typed list would turn timestamps into Dates
 * while watch events keep strings: one cache, two shapes).
 */
async function listRaw<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  spec: KindSpec,
  path: string,
  labelSelector: string | undefined,
): Promise<KubernetesListObject<T>> {
  const list = await rawRequest<KubernetesListObject<T>>(kubeConfig, HttpMethod.GET, path, {
    query: { labelSelector },
  });
  // A list's items carry no apiVersion and kind (watch events do): give them theirs, so every cached
  // object has the one shape a desired object is compared with.
  for (const item of list.items) slim(Object.assign(item, { apiVersion: spec.apiVersion, kind: spec.kind }));
  return list;
}

/** A Watch whose events carry slimmed objects (slim.ts), so the store never holds the full ones. */
function slimWatch(kubeConfig: KubeConfig): Watch {
  const watch = new Watch(kubeConfig);
  const original = watch.watch.bind(watch);
  watch.watch = (path, query, callback, done) =>
    original(
      path,
      query,
      (phase, object: unknown, event) => {
        if (typeof object === 'object' && object !== null && phase !== 'ERROR' && phase !== 'BOOKMARK')
          slim(object as KubernetesObject);
        callback(phase, object, event);
      },
      done,
    );
  return watch;
}

/** The path of one object of a watched kind. */
export function objectPath(object: KubernetesObject): string {
  const spec = WATCHED_KINDS.find((k) => k.kind === object.kind && k.apiVersion === object.apiVersion);
  if (!spec) throw new Error(`${object.apiVersion} ${object.kind} is not a kind the operator manages`);
  const name = object.metadata?.name;
  if (!name) throw new Error(`a ${object.kind} without a name`);
  return `${collectionPath(spec, object.metadata?.namespace)}/${encodeURIComponent(name)}`;
}

/** One kind in one namespace (or all): a ListWatch that restarts itself after errors. */
export class KindInformer<T extends KubernetesObject = KubernetesObject> {
  readonly store: ListWatch<T>;
  private synced = false;
  private stopped = true;
  private attempt = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly options: InformerOptions) {
    const { kubeConfig, spec, namespace } = options;
    const path = collectionPath(spec, namespace);
    const selector = labelSelectorOf(spec);
    const list = async () => {
      const result = await listRaw<T>(kubeConfig, spec, path, selector);
      // ListWatch fills its store right after this promise settles: count it synced after that.
      setImmediate(() => {
        this.synced = true;
      });
      this.attempt = 0;
      return result;
    };
    this.store = new ListWatch<T>(path, slimWatch(kubeConfig), list, false, selector);
    this.log = options.log.child({
      [LOG.component]: 'informer',
      [LOG.kind]: spec.kind,
      [LOG.namespace]: namespace ?? '*',
    });
    for (const verb of ['add', 'update', 'delete'] as const) {
      this.store.on(verb, (object) => {
        this.attempt = 0;
        options.onEvent(spec.kind, verb, object);
      });
    }
    this.store.on('error', (err) => this.failed(err));
  }

  get kind(): CachedKind {
    return this.options.spec.kind;
  }

  get namespace(): string | undefined {
    return this.options.namespace;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  start(): void {
    this.stopped = false;
    this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    void this.store.stop();
  }

  private run(): void {
    this.startedAt = Date.now();
    // start() rejects when the request cannot even be built (credentials): same path as an error event.
    this.store.start().catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    // An informer that ran fine for a while starts its backoff over.
    if (Date.now() - this.startedAt > this.options.backoff.maxMs) this.attempt = 0;
    const delay = restartDelay(this.attempt, this.options.backoff);
    this.attempt++;
    this.options.metrics?.informerRestarts.inc({ kind: this.options.spec.kind });
    const status = err instanceof ApiException ? err.code : (err as { statusCode?: number })?.statusCode;
    this.log.warn(
      { [LOG.err]: err, status, [LOG.delayMs]: delay, [LOG.attempt]: this.attempt },
      'informer stopped with an error; restarting',
    );
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.stopped) this.run();
    }, delay);
  }
}

export interface InformerSetOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; empty: all. */
  namespaces: readonly string[];
  log: Logger;
  metrics?: OperatorMetrics;
  backoff?: RestartBackoff;
  /** How often discovery is asked about the monitoring CRDs; default 60 s. */
  capabilityCheckMs?: number;
}

/** The informers of every watched kind and namespace, their cache, and the monitoring capabilities. */
export class Informers implements ObjectCache {
  private readonly informers = new Map<CachedKind, KindInformer[]>();
  private readonly listeners: InformerListener[] = [];
  private caps: Capabilities = { serviceMonitor: false, prometheusRule: false };
  private capabilityTimer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly log: Logger;

  constructor(private readonly options: InformerSetOptions) {
    this.log = options.log.child({ [LOG.component]: 'informers' });
  }

  /** Called for every add, update and delete any informer sees. */
  onEvent(listener: InformerListener): void {
    this.listeners.push(listener);
  }

  capabilities(): Capabilities {
    return { ...this.caps };
  }

  /** Starts the informers of the core kinds, then discovers the monitoring CRDs (and again every minute). */
  async start(): Promise<void> {
    this.running = true;
    for (const spec of WATCHED_KINDS) if (spec.capability === undefined) this.startKind(spec);
    await this.checkCapabilities();
    const every = this.options.capabilityCheckMs ?? 60_000;
    const tick = () => {
      this.capabilityTimer = setTimeout(() => {
        void this.checkCapabilities().finally(() => {
          if (this.running) tick();
        });
      }, every);
      this.capabilityTimer.unref();
    };
    tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.capabilityTimer);
    for (const list of this.informers.values()) for (const informer of list) informer.stop();
    this.informers.clear();
  }

  /** Every running informer has listed once. */
  hasSynced(): boolean {
    if (!this.running) return false;
    for (const list of this.informers.values())
      for (const informer of list) if (!informer.hasSynced()) return false;
    return true;
  }

  /**
   * Resolves once every running informer has listed (or the set is stopped): a reconcile before that may
   * see a DSMCluster without its children and apply what it would have found there (a template
   * annotation only the live StatefulSet remembers, say), as controller-runtime's WaitForCacheSync avoids.
   */
  async waitForSync(pollMs = 50): Promise<void> {
    while (this.running && !this.hasSynced()) await new Promise((r) => setTimeout(r, pollMs));
  }

  get<K extends CachedKind>(kind: K, namespace: string, name: string): CachedKinds[K] | undefined {
    for (const informer of this.informersOf(kind, namespace)) {
      const found = informer.store.get(name, namespace);
      if (found !== undefined) return found as CachedKinds[K];
    }
    return undefined;
  }

  list<K extends CachedKind>(
    kind: K,
    namespace: string | undefined,
    labelSelector?: Record<string, string>,
  ): readonly CachedKinds[K][] {
    const out: CachedKinds[K][] = [];
    for (const informer of this.informersOf(kind, namespace)) {
      for (const object of informer.store.list(namespace)) {
        if (matchesLabels(object.metadata?.labels, labelSelector)) out.push(object as CachedKinds[K]);
      }
    }
    return out;
  }

  /** Asks API discovery whether the Prometheus operator's CRDs are served, and starts or stops their informers. */
  async checkCapabilities(): Promise<Capabilities> {
    let served: Set<string>;
    try {
      const resources = await rawRequest<{ resources?: { name: string }[] }>(
        this.options.kubeConfig,
        HttpMethod.GET,
        `/apis/${MONITORING_GROUP}/${MONITORING_VERSION}`,
      );
      served = new Set((resources.resources ?? []).map((r) => r.name));
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) {
        // Discovery failed for another reason: keep what we knew rather than flap.
        this.log.warn({ [LOG.err]: err }, 'API discovery of the monitoring CRDs failed');
        return this.capabilities();
      }
      served = new Set();
    }
    if (!this.running) return this.capabilities();
    for (const spec of WATCHED_KINDS) {
      if (spec.capability === undefined) continue;
      const now = served.has(spec.plural);
      if (now === this.caps[spec.capability]) continue;
      this.caps = { ...this.caps, [spec.capability]: now };
      this.log.info(
        { [LOG.kind]: spec.kind, served: now },
        now ? 'CRD found: watching it' : 'CRD gone: not watching it',
      );
      if (now) this.startKind(spec);
      else this.stopKind(spec.kind);
    }
    return this.capabilities();
  }

  private informersOf(kind: CachedKind, namespace: string | undefined): KindInformer[] {
    const all = this.informers.get(kind) ?? [];
    if (namespace === undefined) return all;
    return all.filter((i) => i.namespace === undefined || i.namespace === namespace);
  }

  private startKind(spec: KindSpec): void {
    const namespaces = this.options.namespaces.length > 0 ? this.options.namespaces : [undefined];
    const started = namespaces.map((namespace) => {
      const informer = new KindInformer({
        kubeConfig: this.options.kubeConfig,
        spec,
        namespace,
        log: this.options.log,
        metrics: this.options.metrics,
        backoff: this.options.backoff ?? DEFAULT_RESTART_BACKOFF,
        onEvent: (kind, verb, object) => {
          for (const listener of this.listeners) listener(kind, verb, object);
        },
      });
      informer.start();
      return informer;
    });
    this.informers.set(spec.kind, started);
  }

  private stopKind(kind: CachedKind): void {
    for (const informer of this.informers.get(kind) ?? []) informer.stop();
    this.informers.delete(kind);
  }
}
