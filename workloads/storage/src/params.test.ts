import { describe, expect, it } from '@jest/globals';
import { isDsmError } from '@dsm/protocol';
import { z } from 'zod';
import { decimalInt, decimalU64, flag, parseParams } from './params.js';

const schema = z.object({
  limit: decimalInt(1, 10_000).default(1000),
  after: decimalU64.default(0n),
  pending: flag.default(false),
});

function field(values: Record<string, unknown>): unknown {
  try {
    parseParams(schema, values);
  } catch (e) {
    if (isDsmError(e, 'E_BAD_REQUEST')) return e.details.field;
    throw e;
  }
  return undefined;
}

describe('parseParams', () => {
  it('takes canonical decimal integers and true/false, with defaults', () => {
    expect(parseParams(schema, {})).toEqual({ limit: 1000, after: 0n, pending: false });
    expect(parseParams(schema, { limit: '10000', after: '18446744073709551615', pending: 'true' })).toEqual({
      limit: 10_000,
      after: (1n << 64n) - 1n,
      pending: true,
    });
    expect(parseParams(schema, { limit: '1', other: 'ignored' })).toMatchObject({ limit: 1 });
  });

  it('refuses every other spelling, naming the field', () => {
    for (const limit of [
      '0x1',
      '1e4',
      '01',
      ' 5',
      '5 ',
      '+5',
      '-1',
      '1.0',
      '',
      '0',
      '10001',
      'NaN',
      'Infinity',
    ])
      expect({ limit, field: field({ limit }) }).toEqual({ limit, field: 'limit' });
    for (const after of ['18446744073709551616', '00', '1'.repeat(21), '-0'])
      expect({ after, field: field({ after }) }).toEqual({ after, field: 'after' });
    for (const pending of ['1', 'yes', 'TRUE', 'True', ''])
      expect({ pending, field: field({ pending }) }).toEqual({ pending, field: 'pending' });
  });

  it('refuses a parameter given more than once', () => {
    expect(field({ limit: ['1', '2'] })).toBe('limit');
    expect(field({ pending: ['true'] })).toBe('pending');
  });
});
