import { describe, expect, it } from '@jest/globals';
import { idOf } from '../encoding.js';
import { conditionsFromJson } from './json.js';

describe('conditionsFromJson', () => {
  it('turns id text into links and hex (any case) into bytes, leaving other fields alone', () => {
    const alice = idOf({ who: 'alice' });
    const [allow, cosign] = conditionsFromJson([
      { kind: 'allowList', appliesTo: 'holder', identities: [alice.toString()] },
      { kind: 'coSign', signers: ['ABcd'], threshold: 1 },
    ]);
    expect((allow!.identities as unknown[])[0]).toEqual(alice);
    expect(cosign!.signers).toEqual([Uint8Array.of(0xab, 0xcd)]);
    expect(cosign!.threshold).toBe(1);
  });

  it('names the field of a bad entry', () => {
    expect(() => conditionsFromJson([{ kind: 'denyList', identities: ['mallory'] }])).toThrow(
      /identities\[0\]/,
    );
    expect(() => conditionsFromJson([{ kind: 'coSign', signers: ['xyz'] }])).toThrow(
      /signers\[0\]: hex public key/,
    );
  });
});
