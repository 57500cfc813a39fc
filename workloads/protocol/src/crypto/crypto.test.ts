import { describe, expect, it } from '@jest/globals';
import { blake3 } from '@noble/hashes/blake3.js';
import { toHex } from '../encoding.js';
import { COSIGN_CONTEXT, SIGNATURE_SUITES, STATE_CONTEXT, SUITE_SIZES } from '../suites.js';
import { defaultBackend, nobleBackend, nodeBackend, signMessage } from './index.js';

const message = new TextEncoder().encode('id bytes of some state');
const pairs = [
  ['noble', nobleBackend, nodeBackend],
  ['node', nodeBackend, nobleBackend],
] as const;

describe.each(SIGNATURE_SUITES)('%s', (suite) => {
  it.each(pairs)('signs with %s and verifies with the other', (_name, signer, verifier) => {
    const keys = signer.keygen(suite);
    expect(keys.publicKey).toHaveLength(SUITE_SIZES[suite].publicKey);
    expect(keys.secretKey).toHaveLength(SUITE_SIZES[suite].secretKey);
    const sig = signer.sign(suite, keys.secretKey, message, STATE_CONTEXT);
    expect(sig).toHaveLength(SUITE_SIZES[suite].signature);
    expect(verifier.verify(suite, keys.publicKey, message, sig, STATE_CONTEXT)).toBe(true);
    expect(signer.verify(suite, keys.publicKey, message, sig, STATE_CONTEXT)).toBe(true);
    // The context string separates state signatures from co-signatures.
    expect(verifier.verify(suite, keys.publicKey, message, sig, COSIGN_CONTEXT)).toBe(false);
    const flipped = Uint8Array.from(sig);
    flipped[7]! ^= 1;
    expect(verifier.verify(suite, keys.publicKey, message, flipped, STATE_CONTEXT)).toBe(false);
    expect(verifier.verify(suite, keys.publicKey, message.subarray(1), sig, STATE_CONTEXT)).toBe(false);
    expect(verifier.verify(suite, keys.publicKey, message, sig.subarray(1), STATE_CONTEXT)).toBe(false);
  });
});

describe('signing off the JavaScript thread', () => {
  it.each(['ml-dsa-44', 'ml-dsa-65', 'slh-dsa-sha2-128f'] as const)(
    '%s: signMessage with each backend verifies with the other',
    async (suite) => {
      for (const [, signer, verifier] of pairs) {
        const keys = signer.keygen(suite);
        const sig = await signMessage(signer, suite, keys.secretKey, message, STATE_CONTEXT);
        expect(verifier.verify(suite, keys.publicKey, message, sig, STATE_CONTEXT)).toBe(true);
      }
    },
  );

  it('rejects (never throws) on a bad key, and keeps deterministic signing to a backend that has it', async () => {
    await expect(
      nodeBackend.signAsync!('ml-dsa-65', new Uint8Array(5), message, STATE_CONTEXT),
    ).rejects.toThrow(RangeError);
    const keys = nobleBackend.keygen('ml-dsa-65', new Uint8Array(32).fill(9));
    const options = { deterministic: true };
    const a = await signMessage(defaultBackend, 'ml-dsa-65', keys.secretKey, message, STATE_CONTEXT, options);
    const b = nobleBackend.sign('ml-dsa-65', keys.secretKey, message, STATE_CONTEXT, options);
    expect(toHex(a)).toBe(toHex(b));
    await expect(
      signMessage(nodeBackend, 'ml-dsa-65', keys.secretKey, message, STATE_CONTEXT, options),
    ).rejects.toThrow(/hedged only/);
  });
});

describe('known answers', () => {
  // Same seed through two independent FIPS 204 implementations (noble, OpenSSL) gives the same key.
  it.each(['ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87'] as const)(
    '%s keygen from a seed agrees across backends',
    (suite) => {
      const seed = new Uint8Array(32).map((_, i) => i);
      const a = nobleBackend.keygen(suite, seed);
      const b = nodeBackend.keygen(suite, seed);
      expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    },
  );

  it('ML-DSA-65 deterministic signing is reproducible and pinned', () => {
    const keys = nobleBackend.keygen('ml-dsa-65', new Uint8Array(32).fill(9));
    const a = nobleBackend.sign('ml-dsa-65', keys.secretKey, message, STATE_CONTEXT, { deterministic: true });
    const b = nobleBackend.sign('ml-dsa-65', keys.secretKey, message, STATE_CONTEXT, { deterministic: true });
    expect(toHex(a)).toBe(toHex(b));
    expect(toHex(blake3(keys.publicKey))).toBe(
      '2457e2e067a638996c5fbffbf14cb4c71fd4fd1ac20aa2d9024989e3fda03bf6',
    );
    expect(toHex(blake3(a))).toBe('2d1f586a16c0ff70d89b481bf1ccd55bc37834097db6fd9b0d175c62846ccd48');
    expect(nodeBackend.verify('ml-dsa-65', keys.publicKey, message, a, STATE_CONTEXT)).toBe(true);
  });

  it('hedged signatures differ but both verify', () => {
    const keys = nodeBackend.keygen('ml-dsa-44');
    const a = nodeBackend.sign('ml-dsa-44', keys.secretKey, message, STATE_CONTEXT);
    const b = nodeBackend.sign('ml-dsa-44', keys.secretKey, message, STATE_CONTEXT);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(nobleBackend.verify('ml-dsa-44', keys.publicKey, message, b, STATE_CONTEXT)).toBe(true);
  });

  it('node:crypto refuses deterministic signing instead of silently hedging', () => {
    const keys = nodeBackend.keygen('ml-dsa-44');
    expect(() =>
      nodeBackend.sign('ml-dsa-44', keys.secretKey, message, STATE_CONTEXT, { deterministic: true }),
    ).toThrow(/hedged only/);
    // The default backend routes deterministic signing to noble.
    const sig = defaultBackend.sign('ml-dsa-44', keys.secretKey, message, STATE_CONTEXT, {
      deterministic: true,
    });
    expect(defaultBackend.verify('ml-dsa-44', keys.publicKey, message, sig, STATE_CONTEXT)).toBe(true);
  });

  it('verify returns false for keys of the wrong length rather than throwing', () => {
    const sig = new Uint8Array(SUITE_SIZES['ml-dsa-65'].signature);
    for (const backend of [nobleBackend, nodeBackend]) {
      expect(backend.verify('ml-dsa-65', new Uint8Array(10), message, sig, STATE_CONTEXT)).toBe(false);
      expect(backend.verify('ml-dsa-65', new Uint8Array(1952), message, sig, STATE_CONTEXT)).toBe(false);
    }
  });
});

describe('ml-kem-768', () => {
  it.each(pairs)('keys from %s encapsulate to the other', (_name, a, b) => {
    const seed = new Uint8Array(64).map((_, i) => 255 - i);
    const ka = a.kemKeygen(seed);
    const kb = b.kemKeygen(seed);
    expect(toHex(ka.publicKey)).toBe(toHex(kb.publicKey));
    expect(ka.publicKey).toHaveLength(1184);
    const { cipherText, sharedSecret } = b.encapsulate(ka.publicKey);
    expect(cipherText).toHaveLength(1088);
    expect(toHex(a.decapsulate(cipherText, ka.secretKey))).toBe(toHex(sharedSecret));
  });
});
