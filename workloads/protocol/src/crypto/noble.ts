/** Portable backend: @noble/post-quantum (audited, pure JS). */
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { slh_dsa_sha2_128f, slh_dsa_sha2_128s } from '@noble/post-quantum/slh-dsa.js';
import { randomBytes } from '@noble/post-quantum/utils.js';
import type { SignatureSuite } from '../suites.js';
import { KEM_SIZES, SUITE_SIZES } from '../suites.js';
import type { CryptoBackend, KeyPair } from './backend.js';

interface NobleSigner {
  keygen(seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  sign(
    msg: Uint8Array,
    secretKey: Uint8Array,
    opts?: { context?: Uint8Array; extraEntropy?: Uint8Array | false },
  ): Uint8Array;
  verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array, opts?: { context?: Uint8Array }): boolean;
}

const SIGNERS: Record<SignatureSuite, NobleSigner> = {
  'ml-dsa-44': ml_dsa44,
  'ml-dsa-65': ml_dsa65,
  'ml-dsa-87': ml_dsa87,
  'slh-dsa-sha2-128s': slh_dsa_sha2_128s,
  'slh-dsa-sha2-128f': slh_dsa_sha2_128f,
};

const isMlDsa = (suite: SignatureSuite) => suite.startsWith('ml-dsa');

// noble signs with the expanded ML-DSA key; expand each seed once.
const expanded = new WeakMap<Uint8Array, Uint8Array>();

function nobleSecretKey(suite: SignatureSuite, secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== SUITE_SIZES[suite].secretKey) {
    throw new RangeError(`${suite} secret key must be ${SUITE_SIZES[suite].secretKey} bytes`);
  }
  if (!isMlDsa(suite)) return secretKey;
  let sk = expanded.get(secretKey);
  if (sk === undefined) {
    sk = SIGNERS[suite].keygen(secretKey).secretKey;
    expanded.set(secretKey, sk);
  }
  return sk;
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  deterministicSigning: true,
  supports: () => true,

  keygen(suite, seed = randomBytes(SUITE_SIZES[suite].seed)): KeyPair {
    if (seed.length !== SUITE_SIZES[suite].seed)
      throw new RangeError(`${suite} seed must be ${SUITE_SIZES[suite].seed} bytes`);
    const keys = SIGNERS[suite].keygen(seed);
    return { publicKey: keys.publicKey, secretKey: isMlDsa(suite) ? Uint8Array.from(seed) : keys.secretKey };
  },

  sign(suite, secretKey, message, context, options = {}) {
    return SIGNERS[suite].sign(message, nobleSecretKey(suite, secretKey), {
      context,
      ...(options.deterministic ? { extraEntropy: false as const } : {}),
    });
  },

  verify(suite, publicKey, message, signature, context) {
    if (
      publicKey.length !== SUITE_SIZES[suite].publicKey ||
      signature.length !== SUITE_SIZES[suite].signature
    ) {
      return false;
    }
    try {
      return SIGNERS[suite].verify(signature, message, publicKey, { context });
    } catch {
      return false;
    }
  },

  kemKeygen(seed = randomBytes(KEM_SIZES.seed)): KeyPair {
    const keys = ml_kem768.keygen(seed);
    return { publicKey: keys.publicKey, secretKey: Uint8Array.from(seed) };
  },

  encapsulate(publicKey) {
    return ml_kem768.encapsulate(publicKey);
  },

  decapsulate(cipherText, secretKey) {
    return ml_kem768.decapsulate(cipherText, ml_kem768.keygen(secretKey).secretKey);
  },
};
