/**
 * A consistent backup of the directory as a CAR v1 archive, read from one RocksDB snapshot. Every write of
 * the directory is one atomic batch whose dependencies were durable before it, so a snapshot holds whole
 * objects only and never a state without its predecessor. The archive is: the manifest (root block), the
 * fact blocks (heads, supplies, fork evidence: what a restore must end up showing), then every accepted
 * object and fork candidate in log order, dependencies first, each block named by the id of its bytes.
 */
import { CarWriter } from '@ipld/car/writer';
import {
  STORAGE_BACKUP_FORMAT,
  encodeBackupManifest,
  type BackupCounts,
  type StorageBackupManifest,
} from '@dsm/api';
import { encode, idFromBytes, idOfBytes, type CID } from '@dsm/protocol';
import type { Reader } from '@dsm/runtime';
import { SetDigest } from './digest.js';
import { decodeEvidence, decodeHead, decodeSupply } from './effects.js';
import { LOG_OBJECT, logEntryOf, type LogEntry } from './journal.js';
import { keys } from './keys.js';
import { ALL_EVIDENCE, evidenceCandidate } from './queries.js';

/** Entries per fact block, so no block grows with the directory. */
const FACTS_PER_BLOCK = 4096;
/** Objects read per MultiGet while streaming. */
const READ_BATCH = 256;
const ID_BYTES = 36;

export type HeadFact = [identity: CID, n: number, stateId: CID];
export type SupplyFact = [token: CID, issued: string, burned: string];
export type EvidenceFact = [identity: CID, n: number, existing: CID, candidate: CID];

/** What a directory shows besides its objects, in key order: equal on two directories holding the same objects. */
export interface Facts {
  heads: HeadFact[];
  supplies: SupplyFact[];
  evidence: EvidenceFact[];
  forked: number;
}

export async function readFacts(reader: Reader): Promise<Facts> {
  const heads: HeadFact[] = [];
  const headPrefix = keys.headPrefix();
  for await (const { key, value } of reader.prefix(headPrefix)) {
    const head = decodeHead(value);
    heads.push([idFromBytes(key.subarray(headPrefix.length)), head.n, head.stateId]);
  }
  const supplies: SupplyFact[] = [];
  const supplyPrefix = keys.supplyPrefix();
  for await (const { key, value } of reader.prefix(supplyPrefix)) {
    const supply = decodeSupply(value);
    supplies.push([idFromBytes(key.subarray(supplyPrefix.length)), supply.issued, supply.burned]);
  }
  const evidence: EvidenceFact[] = [];
  for await (const { key, value } of reader.prefix(ALL_EVIDENCE)) {
    const record = decodeEvidence(value);
    const identity = idFromBytes(key.subarray(ALL_EVIDENCE.length, ALL_EVIDENCE.length + ID_BYTES));
    evidence.push([identity, record.n, record.existing, evidenceCandidate(key)]);
  }
  let forked = 0;
  for await (const _ of reader.prefix(keys.forkedPrefix())) forked++;
  return { heads, supplies, evidence, forked };
}

/** The log entries of a snapshot, in order. */
async function* logEntries(reader: Reader): AsyncGenerator<LogEntry> {
  for await (const { key, value } of reader.prefix(keys.logPrefix())) yield logEntryOf(key, value);
}

/** The bytes of log entries: the objects, or the candidates' envelopes (evidence index, then record). */
async function bytesOf(reader: Reader, entries: LogEntry[]): Promise<Uint8Array[]> {
  const direct = await reader.getMany(
    entries.map((e) => (e.kind === LOG_OBJECT ? keys.object(e.id) : keys.evidenceByCandidate(e.id))),
  );
  const records = await reader.getMany(
    entries.flatMap((e, i) => (e.kind === LOG_OBJECT ? [] : [direct[i]!])),
  );
  let next = 0;
  return entries.map((entry, i) => {
    const value = entry.kind === LOG_OBJECT ? direct[i] : records[next++];
    if (!value)
      throw new Error(`snapshot lacks the bytes of log entry ${entry.seq} (${entry.id.toString()})`);
    return entry.kind === LOG_OBJECT ? value : decodeEvidence(value).bytes;
  });
}

function chunks<T>(list: T[]): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < list.length; at += FACTS_PER_BLOCK) out.push(list.slice(at, at + FACTS_PER_BLOCK));
  return out;
}

interface Block {
  cid: CID;
  bytes: Uint8Array;
}

function factBlocks(list: unknown[][]): Block[] {
  return chunks(list).map((chunk) => {
    const bytes = encode(chunk);
    return { cid: idOfBytes(bytes), bytes };
  });
}

export interface BackupSummary {
  manifest: StorageBackupManifest;
  root: CID;
}

/**
 * The archive of a snapshot as CAR bytes, produced as they are read (the consumer's pace sets the reading):
 * `summary` is known before the first byte. The snapshot is the caller's to release after the stream ends.
 */
export async function backupArchive(
  reader: Reader,
  source: { nodeId: string; createdAt: Date },
): Promise<BackupSummary & { bytes: AsyncIterable<Uint8Array> }> {
  // First pass over the log (ids only): counts and the set digest, which the manifest leads with.
  const digest = new SetDigest();
  const counts: BackupCounts = { objects: 0, evidence: 0, identities: 0, tokens: 0, forked: 0 };
  let lastSeq = 0n;
  for await (const entry of logEntries(reader)) {
    digest.add(entry.id);
    if (entry.kind === LOG_OBJECT) counts.objects++;
    else counts.evidence++;
    lastSeq = entry.seq;
  }
  const facts = await readFacts(reader);
  Object.assign(counts, {
    identities: facts.heads.length,
    tokens: facts.supplies.length,
    forked: facts.forked,
  });
  const heads = factBlocks(facts.heads);
  const supplies = factBlocks(facts.supplies);
  const evidence = factBlocks(facts.evidence);
  const manifest: StorageBackupManifest = {
    format: STORAGE_BACKUP_FORMAT,
    nodeId: source.nodeId,
    createdAt: source.createdAt.toISOString(),
    lastSeq: Number(lastSeq),
    counts,
    digest: digest.summary().fingerprint,
    heads: heads.map((b) => b.cid),
    supplies: supplies.map((b) => b.cid),
    evidence: evidence.map((b) => b.cid),
  };
  const manifestBytes = encodeBackupManifest(manifest);
  const root = idOfBytes(manifestBytes);

  const { writer, out } = CarWriter.create([root]);
  const produce = async () => {
    try {
      await writer.put({ cid: root, bytes: manifestBytes });
      for (const block of [...heads, ...supplies, ...evidence]) await writer.put(block);
      let batch: LogEntry[] = [];
      const flush = async () => {
        const list = await bytesOf(reader, batch);
        for (const bytes of list) await writer.put({ cid: idOfBytes(bytes), bytes });
        batch = [];
      };
      for await (const entry of logEntries(reader)) {
        batch.push(entry);
        if (batch.length === READ_BATCH) await flush();
      }
      if (batch.length > 0) await flush();
    } finally {
      await writer.close();
    }
  };
  async function* stream(): AsyncGenerator<Uint8Array> {
    const producing = produce();
    // A failed read ends `out` early (the writer is closed); the error then surfaces here, after it.
    producing.catch(() => undefined);
    yield* out;
    await producing;
  }
  return { manifest, root, bytes: stream() };
}
