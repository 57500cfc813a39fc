/**
 * The directory of protocol.md §7 on RocksDB: content by id, verified on ingest (states against their stored
 * predecessor with every check of §4 except the clock skew), chain heads, inboxes, supply records, fork
 * evidence, and a local log of everything in ingest order for replication. Everything only grows.
 * Each accepted object is written in one atomic, fsync'd batch.
 *
 * This class is the one door to it; the rooms behind it:
 * - journal.ts: log sequence numbers, seqs in flight, the durable commit of one object or of a page;
 * - ingest.ts: decoding, verification, evidence; effects.ts: what an accepted state writes (pure);
 * - world-view.ts: the World of §4 and the checkpoint, as of a parent for fork candidates;
 * - queries.ts: heads, chains, inboxes, transfers, supplies, forks, creations (and the hot caches);
 * - feed.ts: what replicas exchange (log pages, digest buckets, bytes, missing ids) and the tallies.
 */
import type { CID, DsmError, DsmObject, Genesis, SignedState, World } from '@dsm/protocol';
import type { Store } from '@dsm/runtime';
import type { DigestSummary } from './digest.js';
import type { Head, Supply } from './effects.js';
import { Feed } from './feed.js';
import { Ingest, type IngestHooks, type IngestOptions, type IngestResult } from './ingest.js';
import { Journal, type LogEntry } from './journal.js';
import { Queries, type ForkEvidence, type InboxEntry } from './queries.js';
import { directoryWorld } from './world-view.js';

export type { Head, Supply } from './effects.js';
export { MISSING_DEPENDENCY, type IngestResult } from './ingest.js';
export type { LogEntry } from './journal.js';
export type { ForkEvidence, InboxEntry } from './queries.js';

export interface DirectoryStats {
  objects: number;
  bytes: number;
  byType: Record<string, number>;
  forks: number;
  lastSeq: bigint;
}

export type DirectoryOptions = IngestOptions;

/** What the directory keeps in memory about the store: rebuilt together from disk (open, reload). */
interface Parts {
  journal: Journal;
  queries: Queries;
  feed: Feed;
  world: World;
  ingester: Ingest;
}

export class Directory implements IngestHooks {
  /** Called after every accepted object or evidence, with its log entry, bytes and decoded object (accepted ones). */
  onAppend?: (entry: LogEntry, bytes: Uint8Array, object?: DsmObject) => void;
  /** Called when an identity becomes forked. */
  onFork?: (evidence: ForkEvidence) => void;
  private journal!: Journal;
  private queries!: Queries;
  private feed!: Feed;
  private ingester!: Ingest;
  /** The World of §4, answered from this directory. */
  world!: World;

  private constructor(
    readonly store: Store,
    private readonly options: DirectoryOptions,
  ) {}

  /** Opens the directory and rebuilds the in-memory digest and counters from what is on disk. */
  static async open(store: Store, options: DirectoryOptions): Promise<Directory> {
    const directory = new Directory(store, options);
    await directory.reload();
    return directory;
  }

  /**
   * Rebuilds everything kept in memory (log position, caches, digest, tallies) from what is on disk: at open,
   * and after the store changed under the directory (a refused restore wiped what it had loaded).
   */
  async reload(): Promise<void> {
    const journal = await Journal.open(this.store);
    const queries = new Queries(this.store, journal);
    await queries.reloadForks();
    const feed = new Feed(this.store, journal, queries);
    await feed.load(queries.forkedCount);
    const world = directoryWorld(queries);
    const parts: Parts = {
      journal,
      queries,
      feed,
      world,
      ingester: new Ingest(journal, queries, world, feed, this.options, this),
    };
    Object.assign(this, parts);
  }

  /** True when nothing was ever accepted or kept as evidence here. */
  isEmpty(): boolean {
    return (
      this.journal.lastSeq === 0n && this.feed.tallies().objects === 0 && this.feed.tallies().forks === 0
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Ingest

  /** Verifies and stores one object (DAG-CBOR bytes), durably. Idempotent. Throws DsmError on rejection. */
  ingest(bytes: Uint8Array): Promise<IngestResult> {
    return this.ingester.one(bytes);
  }

  /**
   * Ingests objects in order (catch-up from a peer), in chunks that are each one durable batch. Returns, per
   * object, its result or the DsmError that rejected it.
   */
  ingestMany(list: Uint8Array[]): Promise<(IngestResult | DsmError)[]> {
    return this.ingester.many(list);
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  get(id: CID): Promise<Uint8Array | null> {
    return this.queries.get(id);
  }

  genesis(identity: CID): Promise<Genesis | undefined> {
    return this.queries.genesis(identity);
  }

  signedState(stateId: CID): Promise<SignedState | undefined> {
    return this.queries.signedState(stateId);
  }

  head(identity: CID): Promise<Head | null> {
    return this.queries.head(identity);
  }

  stateIdAt(identity: CID, n: number): Promise<CID | undefined> {
    return this.queries.stateIdAt(identity, n);
  }

  /** Accepted state ids of a chain from height `from`, in order. */
  chain(identity: CID, from = 0, limit = 1000): Promise<{ n: number; stateId: CID }[]> {
    return this.queries.chain(identity, from, limit);
  }

  creation(token: CID): Promise<CID | undefined> {
    return this.queries.creation(token);
  }

  supply(token: CID): Promise<Supply | undefined> {
    return this.queries.supply(token);
  }

  inbox(recipient: CID, options: { pendingOnly?: boolean; limit?: number } = {}): Promise<InboxEntry[]> {
    return this.queries.inbox(recipient, options);
  }

  /** One transfer as an inbox entry of its recipient (one read for the receive marker), or undefined. */
  transfer(transfer: CID): Promise<(InboxEntry & { to: CID }) | undefined> {
    return this.queries.transfer(transfer);
  }

  forks(identity: CID): Promise<ForkEvidence[]> {
    return this.queries.forks(identity);
  }

  forkedIdentities(): CID[] {
    return this.queries.forkedIdentities();
  }

  // ---------------------------------------------------------------------------------------------
  // Replication

  /**
   * Log entries after `after`, in order, with the bytes to send (evidence: the candidate envelope): at most
   * `limit` entries, ending with the one that brings the object bytes to `maxBytes` (at least one entry).
   */
  log(after: bigint, limit: number, maxBytes: number): Promise<(LogEntry & { bytes: Uint8Array })[]> {
    return this.feed.log(after, limit, maxBytes);
  }

  /** Every id in a digest bucket (accepted objects and evidence candidates). */
  bucket(bucket: number): Promise<CID[]> {
    return this.feed.bucket(bucket);
  }

  /** Bytes of an accepted object or of an evidence candidate. */
  anyBytes(id: CID): Promise<Uint8Array | null> {
    return this.feed.anyBytes(id);
  }

  /** The ids of `ids` held neither as accepted objects nor as evidence (one MultiGet). */
  missing(ids: CID[]): Promise<CID[]> {
    return this.feed.missing(ids);
  }

  digestSummary(): DigestSummary {
    return this.feed.digestSummary();
  }

  /** The highest seq below which every log entry is on disk (what the log may serve). */
  get lastSeq(): bigint {
    return this.journal.lastSeq;
  }

  stats(): DirectoryStats {
    return { ...this.feed.tallies(), lastSeq: this.lastSeq };
  }
}
