import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { key, keyPrefix, prefixUpperBound, readU64be, u64be } from './keys.js';

describe('key', () => {
  it('joins parts with a NUL separator', () => {
    expect(key('head', 'abc')).toEqual(Buffer.from('head\0abc'));
    expect(key('seq', u64be(1))).toEqual(
      Buffer.concat([Buffer.from('seq\0'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 1])]),
    );
    expect(keyPrefix('head')).toEqual(Buffer.from('head\0'));
  });

  it('refuses string parts containing NUL (they would make keys ambiguous)', () => {
    expect(() => key('a\0b')).toThrow(RangeError);
  });

  it('orders tuples component by component', () => {
    const parts = fc.array(
      fc.string({ unit: 'grapheme-ascii', maxLength: 6 }).filter((s) => !s.includes('\0')),
      {
        minLength: 1,
        maxLength: 3,
      },
    );
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        const byTuple = compareTuples(a, b);
        const byBytes = Math.sign(Buffer.compare(key(...a), key(...b)));
        return byTuple === byBytes;
      }),
    );
  });

  it('prefixes contain exactly the keys extending them', () => {
    const head = keyPrefix('head');
    expect(key('head', 'x').subarray(0, head.length)).toEqual(head);
    expect(key('heads', 'x').subarray(0, head.length)).not.toEqual(head);
  });
});

describe('prefixUpperBound', () => {
  it('increments the last byte below 0xff', () => {
    expect(prefixUpperBound(Buffer.from([1, 2, 3]))).toEqual(Buffer.from([1, 2, 4]));
    expect(prefixUpperBound(Buffer.from([1, 0xff, 0xff]))).toEqual(Buffer.from([2]));
    expect(prefixUpperBound(Buffer.from([0xff, 0xff]))).toBeUndefined();
  });

  it('bounds every extension of the prefix and nothing smaller', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        fc.uint8Array({ maxLength: 4 }),
        (prefix, rest) => {
          const upper = prefixUpperBound(prefix);
          const extended = Buffer.concat([prefix, rest]);
          return (
            upper === undefined ||
            (Buffer.compare(extended, upper) < 0 && Buffer.compare(Buffer.from(prefix), upper) < 0)
          );
        },
      ),
    );
  });
});

describe('u64be', () => {
  it('encodes 8 bytes big-endian and reads back', () => {
    expect(u64be(258)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]));
    expect(readU64be(u64be(2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
    expect(readU64be(Buffer.concat([Buffer.from([9]), u64be(7)]), 1)).toBe(7n);
  });

  it('keeps numeric order as byte order', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (a, b) => {
          const order = a < b ? -1 : a > b ? 1 : 0;
          return Math.sign(Buffer.compare(u64be(a), u64be(b))) === order;
        },
      ),
    );
  });

  it('rejects values outside u64 and unsafe numbers', () => {
    expect(() => u64be(-1)).toThrow(RangeError);
    expect(() => u64be(2n ** 64n)).toThrow(RangeError);
    expect(() => u64be(2 ** 60)).toThrow(RangeError);
    expect(() => u64be(1.5)).toThrow(RangeError);
    expect(() => readU64be(Buffer.alloc(7))).toThrow(RangeError);
  });
});

function compareTuples(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = Buffer.compare(Buffer.from(a[i] as string), Buffer.from(b[i] as string));
    if (c !== 0) return c;
  }
  return Math.sign(a.length - b.length);
}
