/**
 * What replicas exchange (protocol.md §7 "Replication"): the local log in pages, the set digest of every id
 * held (accepted objects and evidence candidates) with its bucket listings, the bytes behind an id, and
 * which of a peer's ids this node lacks. Also the tallies of what this node holds, for status and metrics.
 */
import { idFromBytes, type CID, type ObjectType } from '@dsm/protocol';
import * as dagCbor from '@ipld/dag-cbor';
import type { Store } from '@dsm/runtime';
import { SetDigest, type DigestSummary } from './digest.js';
import { decodeEvidence } from './effects.js';
import { LOG_EVIDENCE, LOG_OBJECT, logEntryOf, type Journal, type LogEntry } from './journal.js';
import { keys } from './keys.js';
import { ALL_EVIDENCE, evidenceCandidate, type Queries } from './queries.js';

/** The bytes before the digest in every id: CIDv1, dag-cbor, blake3, 32 bytes. */
const ID_HEADER = Uint8Array.of(0x01, 0x71, 0x1e, 0x20);

export interface Tallies {
  objects: number;
  bytes: number;
  byType: Record<string, number>;
  forks: number;
}

export class Feed {
  private readonly digest = new SetDigest();
  private readonly counts: Record<string, number> = {};
  private totalBytes = 0;
  private forkCount = 0;

  constructor(
    private readonly store: Store,
    private readonly journal: Journal,
    private readonly queries: Queries,
  ) {}

  /**
   * Rebuilds the digest and the tallies from what is on disk (`forks`: forked identities on disk), and the
   * index of evidence by candidate where it is missing (a directory written before it existed).
   */
  async load(forks: number): Promise<void> {
    for await (const { key, value } of this.store.prefix(keys.objectPrefix())) {
      this.digest.add(idFromBytes(key.subarray(keys.objectPrefix().length)));
      this.totalBytes += value.length;
      const type = typeOfBytes(value);
      this.counts[type] = (this.counts[type] ?? 0) + 1;
    }
    const evidence: Buffer[] = [];
    for await (const { key } of this.store.prefix(ALL_EVIDENCE)) {
      this.digest.add(evidenceCandidate(key));
      evidence.push(key);
    }
    const indexKeys = evidence.map((key) => keys.evidenceByCandidate(evidenceCandidate(key)));
    const indexed = await this.store.getMany(indexKeys);
    const batch = this.store.batch();
    for (const [i, key] of evidence.entries()) if (indexed[i] === null) batch.put(indexKeys[i]!, key);
    if (batch.size > 0) await batch.write({ sync: true });
    this.forkCount = forks;
  }

  /** An accepted object is on disk. */
  noteObject(id: CID, type: ObjectType, bytes: Uint8Array): void {
    this.digest.add(id);
    this.totalBytes += bytes.length;
    this.counts[type] = (this.counts[type] ?? 0) + 1;
  }

  /** A fork candidate is on disk as evidence; `newFork` when it made its identity forked. */
  noteEvidence(candidate: CID, newFork: boolean): void {
    this.digest.add(candidate);
    if (newFork) this.forkCount++;
  }

  /**
   * Log entries after `after`, in order, with the bytes to send (evidence: the candidate envelope): at most
   * `limit` entries, ending with the one that brings the object bytes to `maxBytes` (at least one entry).
   */
  async log(after: bigint, limit: number, maxBytes: number): Promise<(LogEntry & { bytes: Uint8Array })[]> {
    const out: (LogEntry & { bytes: Uint8Array })[] = [];
    const last = this.journal.lastSeq;
    if (after >= last) return [];
    let total = 0;
    for await (const { key, value } of this.store.iterate({
      gt: keys.log(after),
      lte: keys.log(last),
      limit,
    })) {
      const entry = logEntryOf(key, value);
      const bytes = await this.bytesOf(entry);
      if (bytes === null) continue;
      out.push({ ...entry, bytes });
      total += bytes.length;
      if (total >= maxBytes) break;
    }
    return out;
  }

  /** The bytes a log entry stands for: the object, or the evidence candidate's envelope (two reads). */
  async bytesOf(entry: LogEntry): Promise<Uint8Array | null> {
    if (entry.kind === LOG_OBJECT) return this.store.get(keys.object(entry.id));
    const evidenceKey = await this.store.get(keys.evidenceByCandidate(entry.id));
    const value = evidenceKey && (await this.store.get(evidenceKey));
    return value ? decodeEvidence(value).bytes : null;
  }

  /** Every id in a digest bucket (accepted objects and evidence candidates): two range reads of that bucket. */
  async bucket(bucket: number): Promise<CID[]> {
    const out: CID[] = [];
    for (const base of [keys.objectPrefix(), keys.evidenceByCandidatePrefix()]) {
      // Ids are 36 bytes (CIDv1, dag-cbor, blake3-256): the first digest byte, the bucket, is the fifth.
      const prefix = Buffer.concat([base, ID_HEADER, Uint8Array.of(bucket)]);
      for await (const { key } of this.store.prefix(prefix)) out.push(idFromBytes(key.subarray(base.length)));
    }
    return out;
  }

  /** Bytes of an accepted object or of an evidence candidate. */
  async anyBytes(id: CID): Promise<Uint8Array | null> {
    return (
      (await this.queries.get(id)) ??
      (this.queries.isEvidence(id) ? this.bytesOf({ seq: 0n, kind: LOG_EVIDENCE, id }) : null)
    );
  }

  /** The ids of `ids` held neither as accepted objects nor as evidence (one MultiGet). */
  async missing(ids: CID[]): Promise<CID[]> {
    const found = await this.store.getMany(ids.map((id) => keys.object(id)));
    return ids.filter((id, i) => found[i] === null && !this.queries.isEvidence(id));
  }

  digestSummary(): DigestSummary {
    return this.digest.summary();
  }

  tallies(): Tallies {
    return {
      objects: this.digest.count,
      bytes: this.totalBytes,
      byType: { ...this.counts },
      forks: this.forkCount,
    };
  }
}

/** The `type` of stored (already verified) DAG-CBOR bytes without a full decode of the envelope. */
function typeOfBytes(bytes: Uint8Array): ObjectType {
  return (dagCbor.decode(bytes) as { type: ObjectType }).type;
}
