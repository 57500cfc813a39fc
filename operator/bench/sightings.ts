/**
 * When each object first appeared, from watches of every kind a DSMCluster's objects are (all namespaces,
 * the cluster label present), and when each DSMCluster first carried a status whose observedGeneration
 * equals its generation. Times are `performance.now()` at the watch event: the operator's runs and the
 * baselines are seen through the same watches, so both carry the same delivery delay.
 */
import { performance } from 'node:perf_hooks';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { LABELS } from '@dsm/cdk8s';
import { collectionOf, log } from './control-plane.js';

/** A kind to watch: the DSMCluster, or one a cluster's objects are (those carry the cluster label). */
export interface WatchedKind {
  apiVersion: string;
  kind: string;
}

interface Watched {
  kind?: string;
  metadata?: { name?: string; namespace?: string; generation?: number };
  status?: { observedGeneration?: number };
}

export const objectKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

export class Sightings {
  /** objectKey → first seen. */
  readonly firstSeen = new Map<string, number>();
  /** `namespace/name` of a DSMCluster → first seen with status.observedGeneration = metadata.generation. */
  readonly observed = new Map<string, number>();
  private readonly aborts: AbortController[] = [];
  private stopped = false;
  restarts = 0;

  constructor(private readonly config: KubeConfig) {}

  /** Watches DSMClusters and `kinds`, each established before this returns. */
  async start(kinds: readonly WatchedKind[]): Promise<void> {
    const all = [{ apiVersion: 'dsm.io/v1alpha1', kind: 'DSMCluster' }, ...kinds];
    await Promise.all(all.map((spec) => this.watch(spec)));
  }

  private async watch(spec: WatchedKind, resourceVersion?: string): Promise<void> {
    const selector = spec.kind === 'DSMCluster' ? undefined : LABELS.cluster;
    let version = resourceVersion;
    const onEvent = (phase: string, object: Watched & { code?: number }) => {
      if (phase === 'ERROR') {
        // 410 Gone: the version is too old; the next watch starts from a fresh list (replayed as ADDED).
        if (object.code === 410) version = undefined;
        return;
      }
      const rv = (object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      if (rv !== undefined) version = rv;
      if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
      const now = performance.now();
      const { name, namespace, generation } = object.metadata ?? {};
      if (name === undefined || namespace === undefined) return;
      const key = objectKey(spec.kind, namespace, name);
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, now);
      if (
        spec.kind === 'DSMCluster' &&
        generation !== undefined &&
        object.status?.observedGeneration === generation &&
        !this.observed.has(`${namespace}/${name}`)
      )
        this.observed.set(`${namespace}/${name}`, now);
    };
    // client-node closes a watch after 30 s without a byte: it resumes at once from the last version seen
    // (nothing is missed); a watch that cannot be opened is retried every second, at most 30 times in a row.
    const reopen = (failures: number) => {
      if (this.stopped) return;
      this.restarts++;
      this.watch(spec, version).catch((err: unknown) => {
        if (failures >= 30) log(`the ${spec.kind} watch could not be reopened: ${String(err)}`);
        else setTimeout(() => reopen(failures + 1), 1000);
      });
    };
    const abort = await new Watch(this.config).watch(
      collectionOf(spec.apiVersion, spec.kind),
      {
        allowWatchBookmarks: true,
        ...(selector !== undefined ? { labelSelector: selector } : {}),
        ...(version !== undefined ? { resourceVersion: version } : {}),
      },
      onEvent,
      (err: unknown) => {
        // The 30 s inactivity timeout and a server-side close reopen at once; anything else after a second.
        const timeout = err instanceof Error && err.name === 'TimeoutError';
        if (err === null || err === undefined || timeout) reopen(0);
        else setTimeout(() => reopen(0), 1000);
      },
    );
    this.aborts.push(abort);
  }

  /** The last first-sighting among `keys`, or undefined while one is missing. */
  lastOf(keys: readonly string[]): number | undefined {
    let last = 0;
    for (const key of keys) {
      const t = this.firstSeen.get(key);
      if (t === undefined) return undefined;
      last = Math.max(last, t);
    }
    return last;
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
  }
}

/** Polls `check` every 20 ms until it gives a value, at most `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
