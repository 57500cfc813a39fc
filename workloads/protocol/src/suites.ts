/** Signature and KEM suites of protocol.md §2 and their fixed sizes. */
export const SIGNATURE_SUITES = [
  'ml-dsa-44',
  'ml-dsa-65',
  'ml-dsa-87',
  'slh-dsa-sha2-128s',
  'slh-dsa-sha2-128f',
] as const;
export type SignatureSuite = (typeof SIGNATURE_SUITES)[number];
export const KEM_SUITE = 'ml-kem-768';
export type KemSuite = typeof KEM_SUITE;
export const DEFAULT_SUITE: SignatureSuite = 'ml-dsa-65';

export interface SuiteSizes {
  /** Public key bytes (on the wire, in genesis). */
  readonly publicKey: number;
  /** Signature bytes. */
  readonly signature: number;
  /** Our secret key form: the 32-byte seed ξ for ML-DSA, the 64-byte FIPS 205 private key for SLH-DSA. */
  readonly secretKey: number;
  /** Seed bytes accepted by keygen. */
  readonly seed: number;
}

export const SUITE_SIZES: Readonly<Record<SignatureSuite, SuiteSizes>> = {
  'ml-dsa-44': { publicKey: 1312, signature: 2420, secretKey: 32, seed: 32 },
  'ml-dsa-65': { publicKey: 1952, signature: 3309, secretKey: 32, seed: 32 },
  'ml-dsa-87': { publicKey: 2592, signature: 4627, secretKey: 32, seed: 32 },
  'slh-dsa-sha2-128s': { publicKey: 32, signature: 7856, secretKey: 64, seed: 48 },
  'slh-dsa-sha2-128f': { publicKey: 32, signature: 17088, secretKey: 64, seed: 48 },
};

export const KEM_SIZES = {
  publicKey: 1184,
  secretKey: 64,
  seed: 64,
  cipherText: 1088,
  sharedSecret: 32,
} as const;

export function isSignatureSuite(value: unknown): value is SignatureSuite {
  return typeof value === 'string' && (SIGNATURE_SUITES as readonly string[]).includes(value);
}

/** FIPS 204/205 context strings (§2). */
export const STATE_CONTEXT = new TextEncoder().encode('dsm/state@1');
export const COSIGN_CONTEXT = new TextEncoder().encode('dsm/cosign@1');
