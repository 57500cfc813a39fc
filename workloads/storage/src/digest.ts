/**
 * Set digests for anti-entropy: 256 buckets by the first digest byte of each id, each the count and the XOR
 * of the 32-byte BLAKE3 digests of its ids. Order-independent and incremental, so two nodes holding the
 * same set of objects have equal digests whatever order they received them in; unequal buckets say where
 * to look for a gap. Pure.
 */
import type { CID } from '@dsm/protocol';
import { toHex } from '@dsm/protocol';

export const BUCKETS = 256;

export interface Bucket {
  count: number;
  xor: Uint8Array;
}

export interface DigestSummary {
  count: number;
  /** hex of the XOR over all buckets (a single fingerprint of the whole set). */
  fingerprint: string;
  buckets: { count: number; xor: string }[];
}

export function bucketOf(id: CID): number {
  return id.multihash.digest[0]!;
}

export class SetDigest {
  private readonly buckets: Bucket[] = Array.from({ length: BUCKETS }, () => ({
    count: 0,
    xor: new Uint8Array(32),
  }));

  add(id: CID): void {
    const bucket = this.buckets[bucketOf(id)]!;
    bucket.count++;
    const digest = id.multihash.digest;
    for (let i = 0; i < 32; i++) bucket.xor[i]! ^= digest[i]!;
  }

  get count(): number {
    return this.buckets.reduce((sum, b) => sum + b.count, 0);
  }

  summary(): DigestSummary {
    const all = new Uint8Array(32);
    for (const b of this.buckets) for (let i = 0; i < 32; i++) all[i]! ^= b.xor[i]!;
    return {
      count: this.count,
      fingerprint: toHex(all),
      buckets: this.buckets.map((b) => ({ count: b.count, xor: toHex(b.xor) })),
    };
  }
}

/** Buckets whose count or XOR differ: where one side holds an id the other lacks. */
export function differingBuckets(mine: DigestSummary, theirs: DigestSummary): number[] {
  if (mine.fingerprint === theirs.fingerprint && mine.count === theirs.count) return [];
  const out: number[] = [];
  for (let b = 0; b < BUCKETS; b++) {
    const m = mine.buckets[b];
    const t = theirs.buckets[b];
    if (!m || !t || m.count !== t.count || m.xor !== t.xor) out.push(b);
  }
  return out;
}
