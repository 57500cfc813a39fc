/**
 * Replication between storage nodes (§7). Writes fan out to peers and are acknowledged once
 * `replicationFactor` nodes hold them on disk. Independently, every node pulls from every peer: first the
 * peer's log from a persisted cursor, then, once caught up, a digest comparison finds any gap the log
 * cannot (a restored disk, a reset cursor, evidence kept out of order) and fetches what is missing.
 * Every byte from a peer goes through the same ingest as a client write, and a peer's word is never
 * evidence: what it says it holds, or refuses, counts only as far as this node can verify it. What a peer
 * can make this node read, wait for and do is bounded (limits.ts).
 */
import { DsmError, decodeSignedState, idOfBytes, isDsmError, parseId, type CID } from '@dsm/protocol';
import { Batcher, readU64be, u64be, type Logger } from '@dsm/runtime';
import { differingBuckets } from './digest.js';
import { isMissingDependency } from '@dsm/api';
import type { Directory, IngestResult } from './directory.js';
import { keys } from './keys.js';
import { LIMITS } from './limits.js';
import { PeerClient } from './peer-client.js';
import { MISBEHAVING, bucketIds, misbehaving, parseDigest, parseLogPage } from './peer-data.js';
import type { PeerSet } from './peers.js';

export interface PeerStatus {
  address: string;
  up: boolean;
  nodeId?: string;
  /** Their log entries we have not taken yet (at the last look). */
  behind: number;
  /** Seconds since we were last fully caught up with this peer (0 when in sync). */
  lagSeconds: number;
  lastSyncAt?: string;
  lastError?: string;
}

export interface ReplicatorOptions {
  self: string;
  replicationFactor: number;
  syncIntervalMs: number;
  /** How many log entries one pull asks for. */
  batchSize: number;
  pushTimeoutMs: number;
  maxObjectBytes: number;
  /** Sent to peers as `Authorization: Bearer` when the cluster shares a peer token. */
  peerToken?: string;
  logger: Logger;
  /** Clock for lag, injected for tests. */
  now?: () => number;
}

interface PeerState {
  client: PeerClient;
  up: boolean;
  nodeId?: string;
  behind: number;
  /** When we were last caught up with this peer; undefined before the first sync. */
  inSyncAt?: number;
  lastSyncAt?: number;
  lastError?: string;
  running?: Promise<void>;
  rounds: number;
  /** The last digest comparison stopped at a cap: compare again next round. */
  reconcileAgain: boolean;
}

/** Batches of single writes being pushed at once (each to every peer). */
const PUSHES_IN_FLIGHT = 4;

/** An object ingested here and its bytes, to be replicated. */
export interface Written {
  bytes: Uint8Array;
  result: IngestResult;
}

/** What one peer did with a pushed write. */
type Outcome = { held: true } | { fork: DsmError } | { failure: string };

export class Replicator {
  private readonly peers = new Map<string, PeerState>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private stopped = true;
  /** Group commit of single writes' replication: those that meet go to each peer in one push. */
  private readonly pushes = new Batcher<Written, string[]>({
    inFlight: PUSHES_IN_FLIGHT,
    maxItems: LIMITS.batchObjects / 2,
    maxBytes: LIMITS.batchBytes / 2,
    bytesOf: (item) => item.bytes.length,
    send: async (items) =>
      (await this.replicateMany(items)).map((r) => (r instanceof DsmError ? { error: r } : { value: r })),
  });

  constructor(
    private readonly directory: Directory,
    private readonly peerSet: PeerSet,
    private readonly options: ReplicatorOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  private state(address: string): PeerState {
    let state = this.peers.get(address);
    if (state === undefined) {
      const { self, pushTimeoutMs, maxObjectBytes, peerToken } = this.options;
      state = {
        client: new PeerClient(address, {
          self,
          timeoutMs: pushTimeoutMs,
          maxObjectBytes,
          ...(peerToken !== undefined ? { token: peerToken } : {}),
        }),
        up: false,
        behind: 0,
        rounds: 0,
        reconcileAgain: false,
      };
      this.peers.set(address, state);
    }
    return state;
  }

  // ---------------------------------------------------------------------------------------------
  // Write path

  /**
   * Makes sure `replicationFactor` nodes (this one included) hold `bytes`, already ingested here as
   * `written`, on disk. Resolves with the nodes that acknowledged; throws E_UNAVAILABLE (retryable: the
   * write is idempotent) when too few could, or E_FORK when a peer showed this node a conflicting state
   * that verifies here. Writes replicated at the same time share pushes (`replicateMany`).
   */
  replicate(bytes: Uint8Array, written: IngestResult): Promise<string[]> {
    return this.pushes.submit({ bytes, result: written });
  }

  /** Pushes to one peer. Its refusal only means it does not hold the write, unless it is a fork verified here. */
  private async offer(peer: string, bytes: Uint8Array, written: IngestResult): Promise<Outcome> {
    const state = this.state(peer);
    try {
      await state.client.push(bytes);
      state.up = true;
      return { held: true };
    } catch (e) {
      return this.refused(peer, e, written);
    }
  }

  /**
   * Makes sure `replicationFactor` nodes hold each of `items` (already ingested here), with one push of
   * them all to each peer: per item, like `replicate`, the nodes that acknowledged it, or the E_UNAVAILABLE
   * or E_FORK that a single write of it would have met. One item's failure never fails its neighbours.
   */
  async replicateMany(items: Written[]): Promise<(string[] | DsmError)[]> {
    const required = this.options.replicationFactor;
    const self = this.options.self;
    if (required <= 1 || items.length === 0) return items.map(() => [self]);
    const peers = this.peerSet.list();
    if (peers.length < required - 1) {
      const error = new DsmError(
        'E_UNAVAILABLE',
        `replication factor ${required} needs ${required - 1} peer(s); this node has ${peers.length}`,
        { replicas: 1, required },
      );
      return items.map(() => error);
    }
    const tallies = items.map(() => ({ holders: [self], failures: [] as string[] }));
    const verdicts: (string[] | DsmError | undefined)[] = items.map(() => undefined);
    let undecided = items.length;
    let waiting = peers.length;
    return new Promise((resolve) => {
      const decide = (i: number, verdict: string[] | DsmError) => {
        if (verdicts[i] !== undefined) return;
        verdicts[i] = verdict;
        if (--undecided === 0) resolve(verdicts as (string[] | DsmError)[]);
      };
      for (const peer of peers) {
        void this.offerMany(peer, items)
          .catch((e: unknown): Outcome[] =>
            items.map(() => ({ failure: `${peer}: ${(e as Error).message}` })),
          )
          .then((outcomes) => {
            waiting--;
            outcomes.forEach((outcome, i) => {
              const tally = tallies[i]!;
              if ('held' in outcome) tally.holders.push(peer);
              if ('failure' in outcome) tally.failures.push(outcome.failure);
              if (tally.holders.length >= required) decide(i, [...tally.holders]);
              else if ('fork' in outcome) decide(i, outcome.fork);
              else if (waiting === 0) {
                const { holders, failures } = tally;
                decide(
                  i,
                  new DsmError(
                    'E_UNAVAILABLE',
                    `only ${holders.length} of ${required} required nodes acknowledged the write; retry it`,
                    { replicas: holders.length, required, failures },
                  ),
                );
              }
            });
          });
      }
    });
  }

  /** Pushes many objects to one peer in one request; a peer without the batch route gets them one by one. */
  private async offerMany(peer: string, items: Written[]): Promise<Outcome[]> {
    // One object goes the single way: the peer ingests it beside other writes, not as an exclusive page.
    if (items.length === 1) return [await this.offer(peer, items[0]!.bytes, items[0]!.result)];
    const state = this.state(peer);
    let answers: (true | DsmError)[];
    try {
      answers = await state.client.pushMany(items.map((item) => item.bytes));
      state.up = true;
    } catch (e) {
      if (isDsmError(e, 'E_NOT_FOUND'))
        return Promise.all(items.map((item) => this.offer(peer, item.bytes, item.result)));
      if (isDsmError(e, 'E_UNAVAILABLE')) state.up = false;
      return items.map(() => ({ failure: `${peer}: ${(e as Error).message}` }));
    }
    return Promise.all(
      answers.map((answer, i) =>
        answer === true ? { held: true as const } : this.refused(peer, answer, items[i]!.result),
      ),
    );
  }

  /** What a peer's refusal of a write comes to: a fork only if verified here, else "does not hold it". */
  private async refused(peer: string, e: unknown, written: IngestResult): Promise<Outcome> {
    if (isDsmError(e, 'E_UNAVAILABLE')) this.state(peer).up = false;
    if (isDsmError(e, 'E_FORK') && written.identity !== undefined) {
      const fork = await this.verifyFork(peer, e, written, written.identity);
      if (fork) return { fork };
    }
    return { failure: `${peer}: ${(e as Error).message}` };
  }

  /**
   * A peer refused a write as a fork. Its word is not evidence: fetch the conflicting state it names and
   * ingest it here like any object. Only when this node then holds the evidence itself (the identity is
   * forked here) is the write a fork.
   */
  private async verifyFork(
    peer: string,
    claim: DsmError,
    written: IngestResult,
    identity: CID,
  ): Promise<DsmError | undefined> {
    const existing = idOrUndefined(claim.details.existing);
    if (existing !== undefined && !existing.equals(written.id)) {
      try {
        if ((await this.directory.missing([existing])).length > 0) {
          const bytes = await this.state(peer).client.evidence(existing);
          // Only the object it named: a fork claim is no way to hand this node anything else.
          if (objectId(bytes)?.equals(existing)) await this.directory.ingest(bytes);
        }
      } catch {
        // E_FORK is the evidence being kept; any other failure leaves no evidence, which is checked below.
      }
    }
    if (await this.directory.world.isForked(identity)) {
      // The evidence is this node's own (GET /v1/identities/:id/forks), not the peer's claim.
      return new DsmError(
        'E_FORK',
        `identity ${identity.toString()} is forked: a conflicting state is known`,
        {
          identity: identity.toString(),
          n: written.n ?? null,
        },
      );
    }
    this.options.logger.warn(
      { peer, identity: identity.toString(), n: written.n },
      'a peer claimed a fork without evidence that verifies; it does not count as holding the write',
    );
    return undefined;
  }

  /**
   * A peer pushed an object whose dependencies we lack (we were down or partitioned): catch up from that
   * peer's log, then try again once. Only configured peers are pulled from.
   */
  async ingestFromPeer(bytes: Uint8Array, from: string | undefined): Promise<void> {
    try {
      await this.directory.ingest(bytes);
    } catch (e) {
      if (!isMissingDependency(e) || from === undefined || !this.peerSet.has(from)) throw e;
      await this.syncPeer(from);
      await this.directory.ingest(bytes);
    }
  }

  /**
   * `ingestFromPeer` for a pushed batch, in order: what lacked a dependency is tried again once after one
   * catch-up from the pushing peer. A result per object.
   */
  async ingestManyFromPeer(
    list: Uint8Array[],
    from: string | undefined,
  ): Promise<(IngestResult | DsmError)[]> {
    const results = await this.directory.ingestMany(list);
    const lacking = results.flatMap((r, i) => (r instanceof DsmError && isMissingDependency(r) ? [i] : []));
    if (lacking.length === 0 || from === undefined || !this.peerSet.has(from)) return results;
    await this.syncPeer(from);
    const again = await this.directory.ingestMany(lacking.map((i) => list[i]!));
    lacking.forEach((i, k) => (results[i] = again[k]!));
    return results;
  }

  // ---------------------------------------------------------------------------------------------
  // Pull path

  /** Starts the pull rounds; a no-op while they run. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      for (const peer of this.peerSet.list()) void this.syncPeer(peer).catch(() => undefined);
      this.timer = setTimeout(tick, this.options.syncIntervalMs);
      this.timer.unref();
    };
    tick();
  }

  /** True between start and stop. */
  get running(): boolean {
    return !this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.peers.values()].map((p) => p.running));
  }

  /** One pull round with `peer` (log, then digests); concurrent callers share the running round. */
  syncPeer(peer: string): Promise<void> {
    const state = this.state(peer);
    state.running ??= this.pull(peer, state).finally(() => {
      state.running = undefined;
    });
    return state.running;
  }

  /** Pulls from every peer until nothing is missing (tests, admin "sync now"). */
  async syncAll(): Promise<void> {
    await Promise.all(this.peerSet.list().map((p) => this.syncPeer(p)));
  }

  private async pull(peer: string, state: PeerState): Promise<void> {
    try {
      let cursor = await this.cursor(peer);
      let fresh = 0;
      const limit = this.options.batchSize;
      // Bounded: a peer cannot keep one round going forever.
      for (let pages = 0; pages < LIMITS.pagesPerRound; pages++) {
        const page = parseLogPage(peer, await state.client.log(cursor, limit), cursor, limit);
        state.up = true;
        state.nodeId = page.nodeId;
        fresh += page.entries.length;
        if (page.entries.length > 0) {
          // Most of a peer's log already reached us by push: ingest (exclusively) only what is missing.
          const unseen = await this.unseen(page.entries.map((e) => e.bytes));
          if (unseen.length > 0) this.report(peer, await this.directory.ingestMany(unseen));
          cursor = page.entries[page.entries.length - 1]!.seq;
        }
        state.behind = page.last > cursor ? Number(page.last - cursor) : 0;
        await this.directory.store.batch().put(keys.cursor(peer), u64be(cursor)).write();
        // Pages are bounded in bytes too, so a short page is not the end: the peer's `last` is.
        if (page.entries.length === 0 || cursor >= page.last) break;
      }
      // Compare digests to find gaps the log cannot show: on the first round and every tenth quiet one,
      // every fiftieth round whatever the traffic (so steady writes cannot postpone repair forever), and
      // right after a comparison that stopped at a cap.
      const round = state.rounds++;
      if (state.reconcileAgain || (fresh === 0 && round % 10 === 0) || round % 50 === 0)
        state.reconcileAgain = await this.reconcile(peer, state);
      state.inSyncAt = this.now();
      state.lastSyncAt = this.now();
      state.lastError = undefined;
    } catch (e) {
      state.lastError = (e as Error).message;
      if (isDsmError(e, 'E_UNAVAILABLE')) state.up = false;
      if (isMisbehaving(e))
        this.options.logger.warn({ peer, reason: (e as Error).message }, 'peer misbehaving');
      else this.options.logger.warn({ peer, err: (e as Error).message }, 'sync with peer failed');
    }
  }

  /**
   * Logs, once per batch, what a peer sent that we refused (bad data is skipped, forks became evidence), and
   * returns how many objects only lacked a dependency (they may go in once it arrives).
   */
  private report(peer: string, results: (IngestResult | DsmError)[]): number {
    let missing = 0;
    const codes: Record<string, number> = {};
    let example: string | undefined;
    for (const result of results) {
      if (!(result instanceof DsmError)) continue;
      if (isMissingDependency(result)) missing++;
      else if (result.code !== 'E_FORK') {
        codes[result.code] = (codes[result.code] ?? 0) + 1;
        example ??= result.message;
      }
    }
    if (example !== undefined)
      this.options.logger.warn({ peer, codes, err: example }, 'rejected objects from a peer');
    return missing;
  }

  /**
   * Digest comparison: fetch ids a peer has in buckets where we differ and we lack, at most
   * LIMITS.reconcileObjects ids and LIMITS.reconcileBytes bytes per round. Returns true when a cap stopped a
   * comparison that made progress (the next round continues it at once).
   */
  private async reconcile(peer: string, state: PeerState): Promise<boolean> {
    const theirs = parseDigest(peer, await state.client.digest());
    const wanted: CID[] = [];
    let capped = false;
    for (const bucket of differingBuckets(this.directory.digestSummary(), theirs)) {
      if (wanted.length >= LIMITS.reconcileObjects) {
        capped = true;
        break;
      }
      const ids = bucketIds(peer, bucket, await state.client.bucket(bucket));
      capped = await this.collectMissing(ids, wanted);
    }
    if (wanted.length === 0) return false;
    this.options.logger.info({ peer, missing: wanted.length }, 'digest comparison found objects to fetch');
    const { objects, complete } = await this.fetchObjects(peer, state, wanted);
    // Fetched objects arrive in no particular order: take what we can until nothing more goes in.
    let pending = objects;
    let ingested = 0;
    while (pending.length > 0) {
      const results = await this.directory.ingestMany(pending);
      const left = pending.filter((_, i) => {
        const r = results[i];
        return r instanceof DsmError && isMissingDependency(r);
      });
      ingested += results.filter((r) => !(r instanceof DsmError)).length;
      this.report(peer, results);
      if (left.length === pending.length) break;
      pending = left;
    }
    return (capped || !complete) && ingested > 0;
  }

  /**
   * Adds to `wanted` the ids this node lacks, a slice at a time, until LIMITS.reconcileObjects are wanted.
   * Returns true when it stopped before the end of `ids`.
   */
  private async collectMissing(ids: Iterator<CID>, wanted: CID[]): Promise<boolean> {
    for (;;) {
      const slice: CID[] = [];
      for (let next = ids.next(); !next.done; next = ids.next()) if (slice.push(next.value) === 1024) break;
      if (slice.length === 0) return false;
      const missing = await this.directory.missing(slice);
      const room = LIMITS.reconcileObjects - wanted.length;
      wanted.push(...missing.slice(0, room));
      if (missing.length >= room) return true;
    }
  }

  /**
   * Fetches `ids` from the peer until the round's byte budget is spent. Serving anything but the listed
   * object (or nothing) is misbehaving; an object over this node's limit is skipped (a peer may allow more).
   */
  private async fetchObjects(
    peer: string,
    state: PeerState,
    ids: CID[],
  ): Promise<{ objects: Uint8Array[]; complete: boolean }> {
    const objects: Uint8Array[] = [];
    let bytes = 0;
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < ids.length && bytes < LIMITS.reconcileBytes) {
        const id = ids[next++]!;
        let object: Uint8Array;
        try {
          object = await state.client.object(id);
        } catch (e) {
          if (isDsmError(e, 'E_TOO_LARGE')) {
            bytes += this.options.maxObjectBytes;
            continue;
          }
          failed = true;
          if (isDsmError(e, 'E_NOT_FOUND'))
            throw misbehaving(peer, `it listed ${id.toString()} but does not serve it`);
          throw e;
        }
        if (!objectId(object)?.equals(id)) {
          failed = true;
          throw misbehaving(peer, `it served other bytes for ${id.toString()}`);
        }
        bytes += object.length;
        objects.push(object);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIMITS.fetchConcurrency, ids.length) }, worker));
    return { objects, complete: next >= ids.length };
  }

  /** The objects of a log page this node holds neither as accepted objects nor as evidence. */
  private async unseen(list: Uint8Array[]): Promise<Uint8Array[]> {
    const ids = list.map((bytes) => objectId(bytes));
    const known = ids.filter((id): id is CID => id !== undefined);
    const missing = new Set((await this.directory.missing(known)).map(String));
    return list.filter((_, i) => ids[i] === undefined || missing.has(ids[i]!.toString()));
  }

  private async cursor(peer: string): Promise<bigint> {
    const value = await this.directory.store.get(keys.cursor(peer));
    return value === null ? 0n : readU64be(value);
  }

  /** Forget a removed peer's state (its cursor stays, in case it comes back). */
  forget(peer: string): void {
    this.peers.delete(peer);
  }

  status(): PeerStatus[] {
    const now = this.now();
    return this.peerSet.list().map((address) => {
      const s = this.peers.get(address);
      const lag =
        s?.inSyncAt === undefined ? 0 : s.behind === 0 && !s.lastError ? 0 : (now - s.inSyncAt) / 1000;
      return {
        address,
        up: s?.up ?? false,
        ...(s?.nodeId ? { nodeId: s.nodeId } : {}),
        behind: s?.behind ?? 0,
        lagSeconds: lag,
        ...(s?.lastSyncAt ? { lastSyncAt: new Date(s.lastSyncAt).toISOString() } : {}),
        ...(s?.lastError ? { lastError: s.lastError } : {}),
      };
    });
  }
}

/** A peer broke the replication protocol: a bad shape, or an answer larger than any honest one. */
function isMisbehaving(e: unknown): boolean {
  return isDsmError(e) && (e.details[MISBEHAVING] === true || e.code === 'E_TOO_LARGE');
}

function idOrUndefined(value: unknown): CID | undefined {
  try {
    return typeof value === 'string' ? parseId(value) : undefined;
  } catch {
    return undefined;
  }
}

/** The id an object is stored under (the state id for signed states), or undefined for bytes that do not decode. */
function objectId(bytes: Uint8Array): CID | undefined {
  try {
    return decodeSignedState(bytes).stateId;
  } catch (e) {
    if (!isDsmError(e, 'E_DECODE') || e.details.field !== 'type') return undefined;
  }
  try {
    return idOfBytes(bytes);
  } catch {
    return undefined;
  }
}
