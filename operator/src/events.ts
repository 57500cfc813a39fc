/**
 * Kubernetes Events about DSMClusters (events.k8s.io/v1), aggregated the way the new events API intends:
 * the same type, reason and message about the same cluster within 10 minutes of its last occurrence bumps
 * the `series` of the first Event instead of writing another object, so a flapping condition costs one
 * Event, not one per reconcile. The aggregation decision is pure (`EventSeries`); `KubeEventRecorder` writes.
 */
import {
  ApiException,
  PatchStrategy,
  V1MicroTime,
  type EventsV1Event,
  type KubeConfig,
} from '@kubernetes/client-node';
import { API_VERSION, KIND } from '@dsm/cdk8s';
import type { Logger } from '@dsm/runtime/log';
import type { EventRecorder, EventSubject, EventType } from './controller/types.js';
import { HttpMethod, rawRequest } from './controller/raw.js';
import { LOG } from './log-fields.js';
import type { OperatorMetrics } from './metrics.js';

export const REPORTING_CONTROLLER = 'dsm.io/operator';
/** What the operator does when it reports (events.k8s.io/v1 requires an action). */
export const EVENT_ACTION = 'Reconcile';
export const SERIES_WINDOW_MS = 10 * 60_000;
/** Validation limits of events.k8s.io/v1 (note in bytes, reason and action in characters). */
const NOTE_LIMIT = 1024;
const REASON_LIMIT = 128;

export interface SeriesEntry {
  /** The Event object first written for this occurrence. */
  name: string;
  namespace: string;
  count: number;
  lastObserved: number;
}

export type SeriesDecision = { action: 'create' } | { action: 'bump'; count: number };

/** Remembers the Events written recently and decides whether a repeat is a new Event or a series bump. */
export class EventSeries {
  private readonly entries = new Map<string, SeriesEntry>();

  constructor(
    private readonly windowMs = SERIES_WINDOW_MS,
    /** Entries kept at most (the oldest go first): bounded memory with many clusters. */
    private readonly max = 4096,
  ) {}

  static key(subject: EventSubject, type: EventType, reason: string, message: string): string {
    const { namespace, name, uid } = subject.metadata;
    return [namespace, name, uid ?? '', type, reason, message].join('\u0000');
  }

  decide(key: string, now: number): SeriesDecision {
    const entry = this.entries.get(key);
    if (entry === undefined || now - entry.lastObserved > this.windowMs) return { action: 'create' };
    return { action: 'bump', count: entry.count + 1 };
  }

  entry(key: string): SeriesEntry | undefined {
    return this.entries.get(key);
  }

  /** Records an Event written (count 1) or a bump. */
  record(key: string, entry: SeriesEntry): void {
    this.entries.delete(key); // re-insert: Map order is then least recently used first
    this.entries.set(key, entry);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    // Drop expired entries now and then so a quiet operator does not keep them forever.
    if (this.entries.size % 64 === 0) this.prune(entry.lastObserved);
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries)
      if (now - entry.lastObserved > this.windowMs) this.entries.delete(key);
  }
}

/** Cuts `text` to at most `limit` UTF-8 bytes without splitting a character. */
export function truncateBytes(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text;
  let out = text.slice(0, limit);
  while (Buffer.byteLength(out) > limit - 3) out = out.slice(0, -1);
  return `${out}...`;
}

/** The Event object for a first occurrence (events.k8s.io/v1). */
export function eventObject(
  subject: EventSubject,
  type: EventType,
  reason: string,
  message: string,
  reportingInstance: string,
  now: number,
  unique: number,
): EventsV1Event {
  const { name, namespace, uid, resourceVersion } = subject.metadata;
  // client-go's naming: <object>.<time in hex>, unique per recorder.
  const suffix = (BigInt(now) * 1_000_000n + BigInt(unique % 1_000_000)).toString(16);
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `${name}.${suffix}`, namespace },
    eventTime: new V1MicroTime(now),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance,
    action: EVENT_ACTION,
    reason: reason.slice(0, REASON_LIMIT),
    note: truncateBytes(message, NOTE_LIMIT),
    type,
    regarding: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid, resourceVersion },
  };
}

export interface EventRecorderOptions {
  kubeConfig: KubeConfig;
  /** The pod name: which replica reported. */
  reportingInstance: string;
  log: Logger;
  metrics?: OperatorMetrics;
  now?: () => number;
  series?: EventSeries;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly series: EventSeries;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Writes per aggregation key run one after the other, so a burst creates one Event, then bumps. */
  private readonly pending = new Map<string, Promise<void>>();
  private unique = 0;

  constructor(private readonly options: EventRecorderOptions) {
    this.series = options.series ?? new EventSeries();
    this.now = options.now ?? Date.now;
    this.log = options.log.child({ [LOG.component]: 'events' });
  }

  event(cluster: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    const key = EventSeries.key(cluster, type, reason, message);
    const previous = this.pending.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.write(key, cluster, type, reason, message));
    this.pending.set(key, next);
    void next.finally(() => {
      if (this.pending.get(key) === next) this.pending.delete(key);
    });
    return next;
  }

  private async write(
    key: string,
    cluster: EventSubject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const { kubeConfig, metrics } = this.options;
    const events = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(cluster.metadata.namespace)}/events`;
    const now = this.now();
    const decision = this.series.decide(key, now);
    const entry = this.series.entry(key);
    const fields = {
      [LOG.cluster]: `${cluster.metadata.namespace}/${cluster.metadata.name}`,
      [LOG.reason]: reason,
    };
    try {
      if (decision.action === 'bump' && entry !== undefined) {
        try {
          metrics?.apiWrites.inc({ verb: 'patch', kind: 'Event' });
          await rawRequest(kubeConfig, HttpMethod.PATCH, `${events}/${encodeURIComponent(entry.name)}`, {
            body: { series: { count: decision.count, lastObservedTime: new V1MicroTime(now) } },
            contentType: PatchStrategy.MergePatch,
          });
          this.series.record(key, { ...entry, count: decision.count, lastObserved: now });
          metrics?.eventsWritten.inc({ type, reason, outcome: 'aggregated' });
          return;
        } catch (err) {
          // The Event expired (the apiserver keeps them an hour) or was deleted: start a new one.
          if (!(err instanceof ApiException && err.code === 404)) throw err;
          this.series.forget(key);
        }
      }
      const body = eventObject(
        cluster,
        type,
        reason,
        message,
        this.options.reportingInstance,
        now,
        this.unique++,
      );
      metrics?.apiWrites.inc({ verb: 'create', kind: 'Event' });
      const created = await rawRequest<EventsV1Event>(kubeConfig, HttpMethod.POST, events, { body });
      this.series.record(key, {
        name: created.metadata?.name ?? body.metadata!.name!,
        namespace: cluster.metadata.namespace,
        count: 1,
        lastObserved: now,
      });
      metrics?.eventsWritten.inc({ type, reason, outcome: 'created' });
      this.log.debug({ ...fields, type }, message);
    } catch (err) {
      metrics?.eventsWritten.inc({ type, reason, outcome: 'failed' });
      this.log.warn({ ...fields, [LOG.err]: err }, 'could not record event');
    }
  }
}
