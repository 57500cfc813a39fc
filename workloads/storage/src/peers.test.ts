import { describe, expect, it } from '@jest/globals';
import { parsePeerAddress } from './peers.js';

describe('peer addresses', () => {
  it('parse to lower case, trimmed; refusals are E_BAD_REQUEST naming the field', () => {
    expect(parsePeerAddress(' Storage-0:8765 ')).toBe('storage-0:8765');
    expect(() => parsePeerAddress('host:0')).toThrow(
      expect.objectContaining({ code: 'E_BAD_REQUEST', details: { field: 'peer', value: 'host:0' } }),
    );
  });
});
