/**
 * One interface for the post-quantum primitives (§2). Public keys and signatures are the FIPS byte strings
 * in both backends, so either verifies the other's signatures. Secret keys use one portable form:
 * the 32-byte seed ξ for ML-DSA, the 64-byte FIPS 205 private key for SLH-DSA, the 64-byte seed d‖z for ML-KEM.
 */
import type { SignatureSuite } from '../suites.js';

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface SignOptions {
  /** Deterministic (non-hedged) signing, for known-answer tests. Not every backend offers it. */
  deterministic?: boolean;
}

export interface Encapsulation {
  cipherText: Uint8Array;
  sharedSecret: Uint8Array;
}

export interface SignatureBackend {
  readonly name: string;
  supports(suite: SignatureSuite): boolean;
  /** Whether `sign(..., {deterministic: true})` is available. */
  readonly deterministicSigning: boolean;
  /** Key pair from a seed (`SUITE_SIZES[suite].seed` bytes) or from fresh randomness. */
  keygen(suite: SignatureSuite, seed?: Uint8Array): KeyPair;
  sign(
    suite: SignatureSuite,
    secretKey: Uint8Array,
    message: Uint8Array,
    context: Uint8Array,
    options?: SignOptions,
  ): Uint8Array;
  /** False for any malformed key or signature; never throws on attacker-controlled input. */
  verify(
    suite: SignatureSuite,
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
    context: Uint8Array,
  ): boolean;
  /**
   * The same signature made off the JavaScript thread (libuv thread pool), where the backend can: a server
   * signing for many identities keeps its event loop free while each signature is made.
   */
  signAsync?(
    suite: SignatureSuite,
    secretKey: Uint8Array,
    message: Uint8Array,
    context: Uint8Array,
    options?: SignOptions,
  ): Promise<Uint8Array>;
  /**
   * The same check off the JavaScript thread (libuv thread pool), where the backend can: keeps a server's
   * event loop free and lets chain verification hash state n+1 while state n's signature is checked.
   */
  verifyAsync?(
    suite: SignatureSuite,
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
    context: Uint8Array,
  ): Promise<boolean>;
}

/** Verifies with `verifyAsync` when the backend has it. Never rejects. */
export function verifySignature(
  backend: SignatureBackend,
  suite: SignatureSuite,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  context: Uint8Array,
): Promise<boolean> {
  if (backend.verifyAsync) return backend.verifyAsync(suite, publicKey, message, signature, context);
  return Promise.resolve(backend.verify(suite, publicKey, message, signature, context));
}

/** Signs with `signAsync` when the backend has it (and can honour the options), else on this thread. */
export function signMessage(
  backend: SignatureBackend,
  suite: SignatureSuite,
  secretKey: Uint8Array,
  message: Uint8Array,
  context: Uint8Array,
  options?: SignOptions,
): Promise<Uint8Array> {
  if (backend.signAsync && options?.deterministic !== true)
    return backend.signAsync(suite, secretKey, message, context, options);
  try {
    return Promise.resolve(backend.sign(suite, secretKey, message, context, options));
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

export interface KemBackend {
  readonly name: string;
  kemKeygen(seed?: Uint8Array): KeyPair;
  encapsulate(publicKey: Uint8Array): Encapsulation;
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

export type CryptoBackend = SignatureBackend & KemBackend;

export class UnsupportedError extends Error {
  override readonly name = 'UnsupportedError';
}
