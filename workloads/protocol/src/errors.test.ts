import { describe, expect, it } from '@jest/globals';
import { DsmError, check, isDsmError, PROTOCOL_ERROR_CODES } from './errors.js';

describe('DsmError', () => {
  it('carries code, message and details and serialises to the wire shape', () => {
    const e = new DsmError('E_LINK', 'prev does not match', { n: 3 });
    expect(e).toBeInstanceOf(Error);
    expect(e.toJSON()).toEqual({ code: 'E_LINK', message: 'prev does not match', details: { n: 3 } });
    expect(isDsmError(e, 'E_LINK')).toBe(true);
    expect(isDsmError(e, 'E_FORK')).toBe(false);
  });

  it('check throws only on a false condition', () => {
    expect(() => check(true, 'E_DECODE', 'x')).not.toThrow();
    expect(() => check(0, 'E_DECODE', 'x')).toThrow(DsmError);
  });

  it('lists exactly the thirteen codes of protocol.md §8', () => {
    expect(PROTOCOL_ERROR_CODES).toHaveLength(13);
  });
});
