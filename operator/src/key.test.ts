import { describe, expect, it } from '@jest/globals';
import { KEY_BYTES, keyOf, keySecret } from './key.js';

describe('the operator key Secret', () => {
  it('is immutable, labelled as the operator, not as a cluster child, and holds the key', () => {
    const key = Buffer.alloc(KEY_BYTES, 1);
    const secret = keySecret('dsm-system', 'dsm-operator-key', key);
    expect(secret).toMatchObject({
      kind: 'Secret',
      metadata: { name: 'dsm-operator-key', namespace: 'dsm-system' },
      immutable: true,
    });
    expect(Object.keys(secret.metadata.labels)).not.toContain('dsm.io/cluster');
    expect(keyOf(secret, 'x')).toEqual(key);
  });

  it('refuses a Secret without the key or with a short one, naming it', () => {
    expect(() => keyOf({ data: {} }, 'ns/k')).toThrow(/ns\/k has no key "key"/);
    expect(() => keyOf(undefined, 'ns/k')).toThrow(/no key/);
    expect(() => keyOf({ data: { key: Buffer.alloc(8).toString('base64') } }, 'ns/k')).toThrow(/8 bytes/);
  });
});
