import { describe, expect, it } from '@jest/globals';
import { idOf } from '@dsm/protocol';
import { bucketOf, differingBuckets, SetDigest } from './digest.js';

const ids = Array.from({ length: 50 }, (_, i) => idOf({ i }));

describe('SetDigest', () => {
  it('is equal for the same set in any order', () => {
    const a = new SetDigest();
    const b = new SetDigest();
    ids.forEach((id) => a.add(id));
    [...ids].reverse().forEach((id) => b.add(id));
    expect(a.summary()).toEqual(b.summary());
    expect(differingBuckets(a.summary(), b.summary())).toEqual([]);
  });

  it('points at exactly the bucket of a missing id', () => {
    const a = new SetDigest();
    const b = new SetDigest();
    ids.forEach((id) => a.add(id));
    ids.slice(1).forEach((id) => b.add(id));
    expect(differingBuckets(a.summary(), b.summary())).toEqual([bucketOf(ids[0]!)]);
    expect(a.count - b.count).toBe(1);
  });
});
