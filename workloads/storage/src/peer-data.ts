/**
 * What a peer sends during a pull, checked before any of it is used: a log page, the set digest, a bucket
 * listing. Pure. Anything out of shape is a `misbehaving` error: the round with that peer ends there.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { DsmError, parseId, type CID } from '@dsm/protocol';
import { z } from 'zod';
import { BUCKETS, bucketOf, type DigestSummary } from './digest.js';
import { LIMITS } from './limits.js';

/** Set in the details of an error that means "this peer broke the replication protocol". */
export const MISBEHAVING = 'misbehaving';

export function misbehaving(peer: string, what: string): DsmError {
  return new DsmError('E_BAD_REQUEST', `peer ${peer} misbehaving: ${what}`, { peer, [MISBEHAVING]: true });
}

export interface LogPage {
  nodeId: string;
  last: bigint;
  entries: { seq: bigint; bytes: Uint8Array }[];
}

const u64 = z.union([
  z.number().int().min(0),
  z
    .bigint()
    .min(0n)
    .max((1n << 64n) - 1n),
]);
const logPageSchema = z.object({
  nodeId: z.string().max(253),
  last: u64,
  entries: z.array(z.object({ seq: u64, bytes: z.instanceof(Uint8Array) })),
});

/** A log page asked for with `after` and `limit`: at most `limit` entries, seqs rising above `after`. */
export function parseLogPage(peer: string, bytes: Uint8Array, after: bigint, limit: number): LogPage {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    throw misbehaving(peer, 'its log page is not DAG-CBOR');
  }
  const parsed = logPageSchema.safeParse(value);
  if (!parsed.success) throw misbehaving(peer, `its log page is malformed at ${where(parsed.error)}`);
  const { nodeId, entries } = parsed.data;
  if (entries.length > limit)
    throw misbehaving(peer, `it served ${entries.length} log entries, asked for ${limit}`);
  const last = BigInt(parsed.data.last);
  // A peer's log only moves forward: a page that does not is not trusted at all.
  let previous = after;
  const out = entries.map((entry) => {
    const seq = BigInt(entry.seq);
    if (seq <= previous || seq > last) throw misbehaving(peer, 'it served log entries out of order');
    previous = seq;
    return { seq, bytes: entry.bytes };
  });
  return { nodeId, last, entries: out };
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, '32 bytes of lowercase hex');
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const digestSchema = z.object({
  count,
  fingerprint: hex32,
  buckets: z.array(z.object({ count, xor: hex32 })).length(BUCKETS),
});

export function parseDigest(peer: string, value: unknown): DigestSummary {
  const parsed = digestSchema.safeParse(value);
  if (!parsed.success) throw misbehaving(peer, `its digest is malformed at ${where(parsed.error)}`);
  return parsed.data;
}

/**
 * The ids of a bucket listing (at most LIMITS.bucketIds), each checked to be a DSM id of that bucket as it
 * is taken: a caller that stops early never decodes the rest.
 */
export function* bucketIds(peer: string, bucket: number, value: unknown): Generator<CID> {
  if (!Array.isArray(value)) throw misbehaving(peer, `its bucket ${bucket} listing is not an array`);
  if (value.length > LIMITS.bucketIds)
    throw misbehaving(peer, `its bucket ${bucket} lists ${value.length} ids, over ${LIMITS.bucketIds}`);
  for (const [i, text] of (value as unknown[]).entries()) {
    let id: CID | undefined;
    try {
      id = typeof text === 'string' ? parseId(text) : undefined;
    } catch {
      // reported below
    }
    if (id === undefined)
      throw misbehaving(peer, `item ${i} of its bucket ${bucket} listing is not a DSM id`);
    if (bucketOf(id) !== bucket)
      throw misbehaving(peer, `its bucket ${bucket} listing holds ${id.toString()} of another bucket`);
    yield id;
  }
}

function where(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(top)'}: ${issue.message}`;
}
