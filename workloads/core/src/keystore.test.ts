import { describe, expect, it } from '@jest/globals';
import { idOf, toHex } from '@dsm/protocol';
import { Keystore } from './keystore.js';

const alice = idOf({ who: 'alice' });
const bob = idOf({ who: 'bob' });
const keys = {
  suite: 'ml-dsa-65' as const,
  secretKey: new Uint8Array(32).fill(7),
  kemSecretKey: new Uint8Array(64).fill(9),
};

describe('Keystore', () => {
  it('round-trips secret keys and never stores them in the clear', () => {
    const store = new Keystore('a long enough keystore secret');
    const record = store.seal(alice, keys);
    expect(toHex(record)).not.toContain(toHex(keys.secretKey));
    const opened = store.open(alice, record);
    expect(toHex(opened.secretKey)).toBe(toHex(keys.secretKey));
    expect(toHex(opened.kemSecretKey)).toBe(toHex(keys.kemSecretKey));
  });

  it('refuses a wrong key, another identity, or a tampered record', () => {
    const record = new Keystore('a long enough keystore secret').seal(alice, keys);
    expect(() => new Keystore('another keystore secret!!').open(alice, record)).toThrow(/does not decrypt/);
    expect(() => new Keystore('a long enough keystore secret').open(bob, record)).toThrow(/does not decrypt/);
    const tampered = Uint8Array.from(record);
    tampered[tampered.length - 20]! ^= 1;
    expect(() => new Keystore('a long enough keystore secret').open(alice, tampered)).toThrow(
      /does not decrypt/,
    );
    expect(() => new Keystore('short')).toThrow(/at least 16/);
  });
});
