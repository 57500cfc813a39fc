/**
 * Every bound a peer meets at this node, in one place: how much of a peer's answer this node reads, how many
 * requests a peer can keep waiting, how much work one round with a peer may do. Peers are trusted with none
 * of this node's memory, sockets or time.
 */
const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS = {
  /** Object bytes in one served log page: it ends with the entry that reaches this (always one entry). */
  logPageBytes: 4 * MiB,
  /** Requests made for client writes (pushes, fork evidence) in flight to one peer; beyond, fail at once. */
  writesInFlightPerPeer: 32,
  /** Bytes read of an answer that carries no object: a push answer, an error body, the set digest. */
  smallResponseBytes: 64 * KiB,
  /** Ids one bucket listing may hold (a listing is read up to 64 bytes per id). */
  bucketIds: 65_536,
  /** Objects one digest comparison fetches, and their bytes; the next comparison continues. */
  reconcileObjects: 2_000,
  reconcileBytes: 16 * MiB,
  /** Object fetches of one digest comparison running at once. */
  fetchConcurrency: 16,
  /** Log pages taken from one peer in one round. */
  pagesPerRound: 1000,
  /** Objects in one batch write (client or peer push), and the bytes of its body. */
  batchObjects: 256,
  batchBytes: 16 * MiB,
  /** Bytes read per object of a batch answer (an error body at most). */
  resultBytes: 4 * KiB,
  /** Objects ingested in one exclusive section of the directory: how long a page makes writes wait. */
  ingestChunk: 256,
} as const;

/** Bytes read of a bucket listing. */
export const BUCKET_RESPONSE_BYTES = LIMITS.bucketIds * 64 + KiB;

/**
 * Bytes read of a log page of at most `entries` entries: the page's object bytes, its last object and
 * per-entry framing. Nodes of one cluster share `maxObjectBytes`: a page over this is misbehaving.
 */
export function logResponseBytes(entries: number, maxObjectBytes: number): number {
  return LIMITS.logPageBytes + maxObjectBytes + entries * 64 + 4 * KiB;
}
