import { describe, expect, it } from '@jest/globals';
import { canonicalJson, requestKeyOf } from './request-keys.js';

describe('request keys', () => {
  it('reads a bare or an RFC 8941 quoted key to the same key', () => {
    const bare = requestKeyOf('a"b\\c', 'POST', '/v1/x', {});
    const quoted = requestKeyOf('"a\\"b\\\\c"', 'POST', '/v1/x', {});
    expect(quoted).toEqual(bare);
    expect(bare!.key).toBe('a"b\\c');
  });

  it('fingerprints method, path and body, whatever the order of the fields', () => {
    const a = requestKeyOf('k', 'POST', '/v1/identities/x/transfer', { token: 't', amount: '1' });
    const b = requestKeyOf('k', 'post', '/v1/identities/x/transfer', { amount: '1', token: 't' });
    const c = requestKeyOf('k', 'POST', '/v1/identities/x/burn', { amount: '1', token: 't' });
    const d = requestKeyOf('k', 'POST', '/v1/identities/x/transfer', { token: 't', amount: '2' });
    expect(a!.fingerprint).toBe(b!.fingerprint);
    expect(new Set([a!.fingerprint, c!.fingerprint, d!.fingerprint]).size).toBe(3);
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });

  it('no header is no key; a malformed one is E_BAD_REQUEST', () => {
    expect(requestKeyOf(undefined, 'POST', '/', {})).toBeUndefined();
    for (const bad of ['', 'with space', 'é', 'x'.repeat(256)])
      expect(() => requestKeyOf(bad, 'POST', '/', {})).toThrow(
        expect.objectContaining({ code: 'E_BAD_REQUEST' }),
      );
  });
});
