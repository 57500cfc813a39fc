import { describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import { CID, isDsmError } from '@dsm/protocol';
import { SetDigest } from './digest.js';
import { LIMITS } from './limits.js';
import { MISBEHAVING, bucketIds, parseDigest, parseLogPage } from './peer-data.js';

const id = (first: number, fill = 1) =>
  CID.decode(Uint8Array.from([0x01, 0x71, 0x1e, 0x20, first, ...new Uint8Array(31).fill(fill)]));

function misbehaves(work: () => unknown): boolean {
  try {
    work();
  } catch (e) {
    return isDsmError(e, 'E_BAD_REQUEST') && e.details[MISBEHAVING] === true;
  }
  return false;
}

describe('what a peer sends', () => {
  it('log pages: DAG-CBOR, at most the entries asked for, seqs rising above the cursor up to last', () => {
    const page = (entries: unknown[], last: unknown = 9) => dagCbor.encode({ nodeId: 'p', last, entries });
    const entry = (seq: number) => ({ seq, kind: 0, bytes: Uint8Array.of(seq) });
    expect(parseLogPage('p', page([entry(3), entry(5)]), 2n, 10)).toEqual({
      nodeId: 'p',
      last: 9n,
      entries: [
        { seq: 3n, bytes: Uint8Array.of(3) },
        { seq: 5n, bytes: Uint8Array.of(5) },
      ],
    });
    expect(misbehaves(() => parseLogPage('p', Uint8Array.of(0xff), 0n, 10))).toBe(true);
    expect(misbehaves(() => parseLogPage('p', page([entry(3), entry(4)]), 0n, 1))).toBe(true);
    expect(misbehaves(() => parseLogPage('p', page([entry(5), entry(4)]), 0n, 10))).toBe(true);
    expect(misbehaves(() => parseLogPage('p', page([entry(2)]), 2n, 10))).toBe(true);
    expect(misbehaves(() => parseLogPage('p', page([entry(10)]), 0n, 10))).toBe(true);
    expect(misbehaves(() => parseLogPage('p', page([{ seq: 1, bytes: 'text' }]), 0n, 10))).toBe(true);
    expect(misbehaves(() => parseLogPage('p', page([], -1), 0n, 10))).toBe(true);
  });

  it('digests: 256 buckets of a count and 32 bytes of hex', () => {
    const digest = new SetDigest();
    digest.add(id(7));
    const summary = digest.summary();
    expect(parseDigest('p', JSON.parse(JSON.stringify(summary)))).toEqual(summary);
    expect(misbehaves(() => parseDigest('p', { ...summary, buckets: summary.buckets.slice(1) }))).toBe(true);
    expect(misbehaves(() => parseDigest('p', { ...summary, fingerprint: '00' }))).toBe(true);
    const bad = [...summary.buckets];
    bad[3] = { count: -1, xor: bad[3]!.xor };
    expect(misbehaves(() => parseDigest('p', { ...summary, buckets: bad }))).toBe(true);
    expect(misbehaves(() => parseDigest('p', null))).toBe(true);
  });

  it('bucket listings: an array of DSM ids of that bucket, at most LIMITS.bucketIds', () => {
    expect([...bucketIds('p', 7, [id(7).toString(), id(7, 2).toString()])]).toEqual([id(7), id(7, 2)]);
    expect(misbehaves(() => [...bucketIds('p', 7, { ids: [] })])).toBe(true);
    expect(misbehaves(() => [...bucketIds('p', 7, [id(8).toString()])])).toBe(true);
    expect(misbehaves(() => [...bucketIds('p', 7, ['not an id'])])).toBe(true);
    expect(misbehaves(() => [...bucketIds('p', 7, [7])])).toBe(true);
    expect(
      misbehaves(() => [...bucketIds('p', 7, new Array(LIMITS.bucketIds + 1).fill(id(7).toString()))]),
    ).toBe(true);
    // Checked as taken: a caller that stops early never reads the bad tail.
    const ids = bucketIds('p', 7, [id(7).toString(), 'bad']);
    expect(ids.next().value).toEqual(id(7));
  });
});
