/**
 * Replication between storage nodes (§7). Writes fan out to peers and are acknowledged once
 * `replicationFactor` nodes hold them on disk. Independently, every node pulls from every peer: first the
 * peer's log from a persisted cursor, then, once caught up, a digest comparison finds any gap the log
 * cannot (a restored disk, a reset cursor, evidence kept out of order) and fetches what is missing.
 * Every byte from a peer goes through the same ingest as a client write: peers are never trusted.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID, DsmError, decodeSignedState, idOfBytes, isDsmError } from '@dsm/protocol';
import { HttpClient, readU64be, u64be, type Logger } from '@dsm/runtime';
import { differingBuckets, type DigestSummary } from './digest.js';
import { MISSING_DEPENDENCY, type Directory, type IngestResult } from './directory.js';
import { keys } from './keys.js';
import { peerUrl, type PeerSet } from './peers.js';

export const PEER_HEADER = 'x-dsm-peer';
const MAX_PAGES_PER_ROUND = 1000;
/** At most this many objects are fetched by one digest comparison (the next one continues). */
const MAX_RECONCILE_FETCH = 10_000;
const FETCH_CONCURRENCY = 16;

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
  logger: Logger;
  /** Clock for lag, injected for tests. */
  now?: () => number;
}

interface PeerState {
  client: HttpClient;
  up: boolean;
  nodeId?: string;
  behind: number;
  /** When we were last caught up with this peer; undefined before the first sync. */
  inSyncAt?: number;
  lastSyncAt?: number;
  lastError?: string;
  running?: Promise<void>;
  rounds: number;
}

export class Replicator {
  private readonly peers = new Map<string, PeerState>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private stopped = false;

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
      state = {
        client: new HttpClient({
          baseUrl: peerUrl(address),
          timeoutMs: this.options.pushTimeoutMs,
          retries: 1,
          headers: { [PEER_HEADER]: this.options.self },
        }),
        up: false,
        behind: 0,
        rounds: 0,
      };
      this.peers.set(address, state);
    }
    return state;
  }

  // ---------------------------------------------------------------------------------------------
  // Write path

  /**
   * Makes sure `replicationFactor` nodes (this one included) hold `bytes` on disk. Resolves with the nodes
   * that acknowledged; throws E_UNAVAILABLE (retryable: the write is idempotent) when too few could.
   */
  async replicate(bytes: Uint8Array): Promise<string[]> {
    const needed = this.options.replicationFactor - 1;
    const holders = [this.options.self];
    if (needed <= 0) return holders;
    const peers = this.peerSet.list();
    if (peers.length < needed) {
      throw new DsmError(
        'E_UNAVAILABLE',
        `replication factor ${this.options.replicationFactor} needs ${needed} peer(s); this node has ${peers.length}`,
        {
          replicas: 1,
          required: this.options.replicationFactor,
        },
      );
    }
    const failures: string[] = [];
    return new Promise((resolve, reject) => {
      let settled = 0;
      let done = false;
      for (const peer of peers) {
        this.push(peer, bytes)
          .then(
            () => {
              holders.push(peer);
              if (!done && holders.length - 1 >= needed) {
                done = true;
                resolve([...holders]);
              }
            },
            (e: unknown) => {
              failures.push(`${peer}: ${(e as Error).message}`);
              if (isDsmError(e, 'E_FORK') && !done) {
                // A peer holds a conflicting state: the write is a fork, not a replication failure.
                done = true;
                reject(e);
              }
            },
          )
          .finally(() => {
            settled++;
            if (!done && settled === peers.length) {
              done = true;
              reject(
                new DsmError(
                  'E_UNAVAILABLE',
                  `only ${holders.length} of ${this.options.replicationFactor} required nodes acknowledged the write; retry it`,
                  {
                    replicas: holders.length,
                    required: this.options.replicationFactor,
                    failures,
                  },
                ),
              );
            }
          });
      }
    });
  }

  private async push(peer: string, bytes: Uint8Array): Promise<void> {
    const state = this.state(peer);
    try {
      await state.client.postBytes('/v1/replica/objects', bytes, { idempotent: true });
      state.up = true;
    } catch (e) {
      if (isDsmError(e, 'E_UNAVAILABLE')) state.up = false;
      throw e;
    }
  }

  /**
   * A peer pushed an object whose dependencies we lack (we were down or partitioned): catch up from that
   * peer's log, then try again once. Only configured peers are pulled from.
   */
  async ingestFromPeer(bytes: Uint8Array, from: string | undefined): Promise<void> {
    try {
      await this.directory.ingest(bytes);
    } catch (e) {
      if (
        !isDsmError(e) ||
        e.details[MISSING_DEPENDENCY] !== true ||
        from === undefined ||
        !this.peerSet.has(from)
      )
        throw e;
      await this.syncPeer(from);
      await this.directory.ingest(bytes);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Pull path

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      for (const peer of this.peerSet.list()) void this.syncPeer(peer).catch(() => undefined);
      this.timer = setTimeout(tick, this.options.syncIntervalMs);
      this.timer.unref();
    };
    tick();
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
      // Bounded: a peer cannot keep one round going forever.
      for (let pages = 0; pages < MAX_PAGES_PER_ROUND; pages++) {
        const page = dagCbor.decode(
          await state.client.getBytes('/v1/replication/log', {
            query: { after: cursor.toString(), limit: this.options.batchSize },
          }),
        ) as {
          nodeId: string;
          last: bigint | number;
          entries: { seq: bigint | number; bytes: Uint8Array }[];
        };
        state.up = true;
        state.nodeId = page.nodeId;
        // A peer's log only moves forward: a page that does not is not trusted at all.
        let previous = cursor;
        for (const entry of page.entries) {
          const seq = BigInt(entry.seq);
          if (seq <= previous)
            throw new DsmError('E_BAD_REQUEST', `peer ${peer} served log entries out of order`, { peer });
          previous = seq;
        }
        fresh += page.entries.length;
        if (page.entries.length > 0) {
          // Most of a peer's log already reached us by push: ingest (exclusively) only what is missing.
          const unseen = await this.unseen(page.entries.map((e) => e.bytes));
          if (unseen.length > 0) this.report(peer, await this.directory.ingestMany(unseen));
          cursor = BigInt(page.entries[page.entries.length - 1]!.seq);
        }
        state.behind = Number(BigInt(page.last) - cursor);
        await this.directory.store.batch().put(keys.cursor(peer), u64be(cursor)).write();
        if (page.entries.length < this.options.batchSize) break;
      }
      // Compare digests to find gaps the log cannot show: on the first round and every tenth quiet one,
      // and every fiftieth round whatever the traffic (so steady writes cannot postpone repair forever).
      const round = state.rounds++;
      if ((fresh === 0 && round % 10 === 0) || round % 50 === 0) await this.reconcile(peer, state);
      state.inSyncAt = this.now();
      state.lastSyncAt = this.now();
      state.lastError = undefined;
    } catch (e) {
      state.lastError = (e as Error).message;
      if (isDsmError(e, 'E_UNAVAILABLE')) state.up = false;
      this.options.logger.warn({ peer, err: (e as Error).message }, 'sync with peer failed');
    }
  }

  /**
   * Logs what a peer sent that we refused (bad data is skipped, forks became evidence) and returns how many
   * objects only lacked a dependency (they may go in once it arrives).
   */
  private report(peer: string, results: (IngestResult | DsmError)[]): number {
    let missing = 0;
    for (const result of results) {
      if (!(result instanceof DsmError)) continue;
      if (result.details[MISSING_DEPENDENCY] === true) missing++;
      else if (result.code !== 'E_FORK')
        this.options.logger.warn(
          { peer, code: result.code, err: result.message },
          'rejected an object from a peer',
        );
    }
    return missing;
  }

  /** Digest comparison: fetch every id a peer has in a bucket where we differ and we lack. */
  private async reconcile(peer: string, state: PeerState): Promise<void> {
    const theirs = (await state.client.get('/v1/replication/digest')) as DigestSummary;
    const buckets = differingBuckets(this.directory.digestSummary(), theirs);
    if (buckets.length === 0) return;
    const missing: CID[] = [];
    for (const bucket of buckets) {
      const ids = (await state.client.get(`/v1/replication/buckets/${bucket}`)) as string[];
      missing.push(...(await this.directory.missing(ids.map((text) => CID.parse(text)))));
    }
    if (missing.length === 0) return;
    this.options.logger.info({ peer, missing: missing.length }, 'digest comparison found objects to fetch');
    let pending = await mapLimited(missing.slice(0, MAX_RECONCILE_FETCH), FETCH_CONCURRENCY, (id) =>
      state.client.getBytes(`/v1/objects/${id.toString()}`, { query: { evidence: 'true' } }),
    );
    // Fetched objects arrive in no particular order: take what we can until nothing more goes in.
    while (pending.length > 0) {
      const results = await this.directory.ingestMany(pending);
      const left = pending.filter((_, i) => {
        const r = results[i];
        return r instanceof DsmError && r.details[MISSING_DEPENDENCY] === true;
      });
      this.report(peer, results);
      if (left.length === pending.length) break;
      pending = left;
    }
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

/** The id an object is stored under (the state id for signed states), or undefined for bytes that do not decode. */
function objectId(bytes: Uint8Array): CID | undefined {
  try {
    return decodeSignedState(bytes).stateId;
  } catch (e) {
    if (!isDsmError(e, 'E_DECODE') || e.details.field !== 'type') return undefined;
  }
  return idOfBytes(bytes);
}

/** Like Promise.all over `items.map(work)`, with at most `limit` calls running at once. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}
