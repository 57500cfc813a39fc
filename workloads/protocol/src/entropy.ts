/** State entropy (§3, §4): BLAKE3 derive-key mode, context `dsm/entropy@1`. */
import { blake3 } from '@noble/hashes/blake3.js';
import type { CID } from 'multiformats/cid';
import { idOf } from './encoding.js';
import type { Operation } from './objects.js';

const ENTROPY_CONTEXT = new TextEncoder().encode('dsm/entropy@1');
// Derive-key mode hashes the context once per call; keep a hasher with the context key already absorbed.
const derivation = blake3.create({ context: ENTROPY_CONTEXT });
const derive = (material: Uint8Array): Uint8Array => derivation.clone().update(material).digest();

/** entropy₀: key material is the genesis id bytes. */
export function genesisEntropy(identity: CID): Uint8Array {
  return derive(identity.bytes);
}

/** entropy for n > 0: prev.entropy (32) ‖ id bytes of op (36) ‖ n as u64 big-endian (8). */
export function nextEntropy(prevEntropy: Uint8Array, op: Operation, n: number): Uint8Array {
  const opId = idOf(op).bytes;
  const material = new Uint8Array(prevEntropy.length + opId.length + 8);
  material.set(prevEntropy, 0);
  material.set(opId, prevEntropy.length);
  new DataView(material.buffer).setBigUint64(prevEntropy.length + opId.length, BigInt(n), false);
  return derive(material);
}
