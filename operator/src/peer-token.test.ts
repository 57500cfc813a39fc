import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { derivePeerToken, peerTokenInput } from './peer-token.js';

const key = Buffer.alloc(32, 7);
const cluster = { namespace: 'prod', name: 'devnet', uid: '0b5d7a2e-1111-4222-8333-944445555666' };

describe('derivePeerToken', () => {
  it('is HMAC-SHA256(key, peer-token/<namespace>/<name>/<uid>) as base64url', () => {
    expect(peerTokenInput(cluster)).toBe('peer-token/prod/devnet/0b5d7a2e-1111-4222-8333-944445555666');
    const expected = createHmac('sha256', key)
      .update('peer-token/prod/devnet/0b5d7a2e-1111-4222-8333-944445555666')
      .digest('base64url');
    expect(derivePeerToken(key, cluster)).toBe(expected);
    // 32 bytes, unpadded base64url: safe in a bearer header and a file.
    expect(derivePeerToken(key, cluster)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs by key, namespace, name and uid (a recreated cluster gets a new token)', () => {
    const base = derivePeerToken(key, cluster);
    expect(derivePeerToken(Buffer.alloc(32, 8), cluster)).not.toBe(base);
    expect(derivePeerToken(key, { ...cluster, namespace: 'dev' })).not.toBe(base);
    expect(derivePeerToken(key, { ...cluster, name: 'other' })).not.toBe(base);
    expect(derivePeerToken(key, { ...cluster, uid: 'another-uid' })).not.toBe(base);
    expect(derivePeerToken(key, cluster)).toBe(base);
  });

  it('refuses an empty key', () => {
    expect(() => derivePeerToken(Buffer.alloc(0), cluster)).toThrow(/empty/);
  });
});
