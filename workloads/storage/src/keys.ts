/**
 * Key layout of the storage node's RocksDB. One prefix per fact; ids are stored as their 36 id bytes,
 * heights and sequence numbers as u64 big-endian so that they iterate in numeric order.
 */
import type { CID } from '@dsm/protocol';
import { key, keyPrefix, u64be } from '@dsm/runtime';

export const keys = {
  /** id → DAG-CBOR bytes of a genesis, token, policy or signed state. */
  object: (id: CID) => key('obj', id.bytes),
  objectPrefix: () => keyPrefix('obj'),
  /** identity → id bytes ‖ u64 n of the highest accepted state. */
  head: (identity: CID) => key('head', identity.bytes),
  headPrefix: () => keyPrefix('head'),
  /** (identity, n) → id bytes of the accepted state at that height. */
  height: (identity: CID, n: number) => key('height', identity.bytes, u64be(n)),
  heightPrefix: (identity: CID) => keyPrefix('height', identity.bytes),
  /** token → id bytes of its accepted token.create state. */
  creation: (token: CID) => key('created', token.bytes),
  /** token → DAG-CBOR {issued, burned} (amount text). */
  supply: (token: CID) => key('supply', token.bytes),
  supplyPrefix: () => keyPrefix('supply'),
  /** (recipient, inbox seq) → id bytes of the transfer state. */
  inbox: (recipient: CID, seq: bigint) => key('inbox', recipient.bytes, u64be(seq)),
  inboxPrefix: (recipient: CID) => keyPrefix('inbox', recipient.bytes),
  /** transfer id → id bytes of the receive state that took it. */
  received: (transfer: CID) => key('received', transfer.bytes),
  /** identity → marker; present once the identity is forked. */
  forked: (identity: CID) => key('forked', identity.bytes),
  forkedPrefix: () => keyPrefix('forked'),
  /** (identity, candidate id) → id bytes of the state it conflicts with. */
  evidence: (identity: CID, candidate: CID) => key('evidence', identity.bytes, candidate.bytes),
  evidencePrefix: (identity: CID) => keyPrefix('evidence', identity.bytes),
  /**
   * candidate id → its evidence key: finds one candidate's evidence in one read, and, ordered by the
   * candidate's id bytes, lists one digest bucket as a range. Written with the evidence; rebuilt at open
   * from the evidence records of a directory written before it existed.
   */
  evidenceByCandidate: (candidate: CID) => key('evidence-by-candidate', candidate.bytes),
  evidenceByCandidatePrefix: () => keyPrefix('evidence-by-candidate'),
  /** local replication log: seq → id bytes, in ingest order (dependencies always come first). */
  log: (seq: bigint) => key('log', u64be(seq)),
  logPrefix: () => keyPrefix('log'),
  /** per-peer pull cursor: peer address → u64 last seq taken from its log. */
  cursor: (peer: string) => key('cursor', peer),
  /** node metadata (node id, peers) as DAG-CBOR. */
  meta: (name: string) => key('meta', name),
  metaPrefix: () => keyPrefix('meta'),
};
