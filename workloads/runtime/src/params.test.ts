import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { z } from 'zod';
import { booleanParam, intParam, parseParams, u64Param } from './params.js';

const CANONICAL = /^(0|[1-9][0-9]*)$/;

describe('intParam', () => {
  const limit = intParam({ min: 1, max: 10_000 });

  it('refuses every loose spelling z.coerce.number() accepts', () => {
    for (const input of ['0x1', '1e4', ' 5', '5 ', '+5', '05', '5.0', '-0', '', '0b1', '\n5']) {
      expect([input, z.coerce.number().safeParse(input).success]).toEqual([input, true]);
      expect([input, intParam().safeParse(input).success]).toEqual([input, false]);
    }
    for (const input of ['-1', 'Infinity', 'NaN', '５', '1_000'])
      expect([input, intParam().safeParse(input).success]).toEqual([input, false]);
  });

  it('reads canonical decimals within bounds', () => {
    expect(limit.parse('1')).toBe(1);
    expect(limit.parse('10000')).toBe(10_000);
    expect(intParam().parse('0')).toBe(0);
    expect(intParam().parse(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(limit.safeParse('0').error?.issues[0]?.message).toBe('must be at least 1');
    expect(limit.safeParse('10001').error?.issues[0]?.message).toBe('must be at most 10000');
    expect(intParam().safeParse(String(Number.MAX_SAFE_INTEGER + 1)).success).toBe(false);
    expect(intParam().safeParse('9'.repeat(100_000)).error?.issues).toHaveLength(1);
  });

  it('refuses repeated, missing and non-string values', () => {
    expect(limit.safeParse(['1', '2']).error?.issues[0]?.message).toBe(
      'given more than once; expected a decimal integer',
    );
    expect(limit.safeParse(undefined).error?.issues[0]?.message).toBe('required');
    expect(limit.safeParse(5).success).toBe(false);
  });

  it('takes a default for an absent value, inside an object schema too', () => {
    const query = z.object({ from: intParam().default(0), limit: limit.default(100) });
    expect(query.parse({})).toEqual({ from: 0, limit: 100 });
    expect(query.parse({ from: '7', limit: '20' })).toEqual({ from: 7, limit: 20 });
    expect(query.safeParse({ limit: '1e4' }).error?.issues[0]?.path).toEqual(['limit']);
  });

  it('refuses bounds it cannot honour', () => {
    expect(() => intParam({ min: -1 })).toThrow(RangeError);
    expect(() => intParam({ min: 5, max: 4 })).toThrow(RangeError);
    expect(() => intParam({ max: 2 ** 53 })).toThrow(RangeError);
    expect(() => intParam({ max: 1.5 })).toThrow(RangeError);
  });

  it('accepts a string exactly when it is the canonical spelling of an integer in range', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^[-+ 0]?[0-9]{1,17}(\.0)?$/),
          fc.nat({ max: 20_000 }).map(String),
        ),
        (input) => {
          const result = limit.safeParse(input);
          const n = Number(input);
          expect(result.success).toBe(CANONICAL.test(input) && n >= 1 && n <= 10_000);
          if (result.success) expect(String(result.data)).toBe(input);
        },
      ),
    );
  });

  it('reads back every safe integer it is given in decimal', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(intParam().parse(String(n))).toBe(n);
      }),
    );
  });
});

describe('booleanParam', () => {
  it('accepts only true and false', () => {
    const flag = booleanParam().default(false);
    expect(flag.parse('true')).toBe(true);
    expect(flag.parse('false')).toBe(false);
    expect(flag.parse(undefined)).toBe(false);
    for (const input of ['1', '0', 'yes', 'TRUE', 'True', '', ' true', ['true', 'false']])
      expect([input, flag.safeParse(input).success]).toEqual([input, false]);
    expect(booleanParam().safeParse(undefined).error?.issues[0]?.message).toBe('required');
  });
});

describe('u64Param and parseParams', () => {
  it('reads 64-bit sequence numbers exactly, and nothing else', () => {
    expect(u64Param().parse('18446744073709551615')).toBe((1n << 64n) - 1n);
    expect(u64Param().parse('0')).toBe(0n);
    for (const input of ['18446744073709551616', '01', '-1', '1e3', ['1', '2']])
      expect(u64Param().safeParse(input).success).toBe(false);
  });

  it('names the offending field, or the body as a whole', () => {
    const schema = z.object({ limit: intParam({ min: 1, max: 10 }).default(5) });
    expect(parseParams(schema, {})).toEqual({ limit: 5 });
    expect(() => parseParams(schema, { limit: '11' })).toThrow(
      expect.objectContaining({ code: 'E_BAD_REQUEST', details: { field: 'limit' } }),
    );
    expect(() => parseParams(z.strictObject({}), 'x')).toThrow(
      expect.objectContaining({ code: 'E_BAD_REQUEST', details: { field: 'body' } }),
    );
  });
});
