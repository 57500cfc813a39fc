/**
 * The bridge's own DSM identity, a pure function of its 32-byte key seed: the ML-DSA-65 key pair, the
 * ML-KEM key and the genesis nonce are each derived from the seed with domain-separated BLAKE3, so the key
 * file alone recreates the identity (and its id) on any machine. `@dsm/bridge/identity`: what `dsm bridge
 * keygen` uses too.
 */
import { blake3 } from '@noble/hashes/blake3.js';
import {
  defaultBackend,
  idOf,
  makeGenesis,
  signState,
  type CID,
  type CryptoBackend,
  type Genesis,
  type SignedState,
  type State,
} from '@dsm/protocol';

export const BRIDGE_SUITE = 'ml-dsa-65';
export const BRIDGE_LABEL = 'dsm-bridge';
const SEED_TEXT = /^(0x)?[0-9a-fA-F]{64}$/;

/** A key file's text: 32 bytes as 64 hex characters (an optional `0x`, surrounding whitespace ignored). */
export function parseBridgeSeed(text: string): Uint8Array {
  const trimmed = text.trim();
  if (!SEED_TEXT.test(trimmed)) {
    throw new Error("the bridge's DSM key is a 32-byte seed written as 64 hex characters");
  }
  return Uint8Array.from(Buffer.from(trimmed.replace(/^0x/, ''), 'hex'));
}

/** Seed text for a new key file. */
export function formatBridgeSeed(seed: Uint8Array): string {
  return `${Buffer.from(seed).toString('hex')}\n`;
}

const derive = (seed: Uint8Array, purpose: string, dkLen: number) =>
  blake3(seed, { context: Buffer.from(`dsm-bridge/${purpose}@1`), dkLen });

export interface BridgeIdentity {
  genesis: Genesis;
  identity: CID;
  /** Signs one of the bridge's own states. */
  sign(state: State): SignedState;
}

export function bridgeIdentity(seed: Uint8Array, backend: CryptoBackend = defaultBackend): BridgeIdentity {
  if (seed.length !== 32) throw new Error("the bridge's DSM key seed is 32 bytes");
  const keys = backend.keygen(BRIDGE_SUITE, derive(seed, 'ml-dsa-65', 32));
  const genesis = makeGenesis({
    suite: BRIDGE_SUITE,
    publicKey: keys.publicKey,
    kemPublicKey: backend.kemKeygen(derive(seed, 'ml-kem', 64)).publicKey,
    nonce: derive(seed, 'nonce', 32),
    label: BRIDGE_LABEL,
  });
  return {
    genesis,
    identity: idOf(genesis),
    sign: (state) => signState(backend, BRIDGE_SUITE, keys.secretKey, state),
  };
}
