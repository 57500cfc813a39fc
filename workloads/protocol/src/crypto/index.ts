import type { SignatureSuite } from '../suites.js';
import { signMessage, verifySignature, type CryptoBackend } from './backend.js';
import { nobleBackend } from './noble.js';
import { nodeBackend } from './node.js';

export * from './backend.js';
export { nobleBackend } from './noble.js';
export { nodeBackend } from './node.js';

export const BACKENDS: Readonly<Record<string, CryptoBackend>> = { noble: nobleBackend, node: nodeBackend };

/**
 * The default backend: node:crypto for every suite OpenSSL has, noble for the rest (and for deterministic
 * signing, which OpenSSL does not expose through Node).
 */
export const defaultBackend: CryptoBackend = {
  name: 'default',
  deterministicSigning: true,
  supports: () => true,
  keygen: (suite, seed) => pick(suite, seed !== undefined && !suite.startsWith('ml-dsa')).keygen(suite, seed),
  sign: (suite, sk, msg, ctx, options) =>
    pick(suite, options?.deterministic === true).sign(suite, sk, msg, ctx, options),
  signAsync: (suite, sk, msg, ctx, options) =>
    signMessage(pick(suite, options?.deterministic === true), suite, sk, msg, ctx, options),
  verify: (suite, pk, msg, sig, ctx) => pick(suite, false).verify(suite, pk, msg, sig, ctx),
  verifyAsync: (suite, pk, msg, sig, ctx) => verifySignature(pick(suite, false), suite, pk, msg, sig, ctx),
  kemKeygen: (seed) => kem().kemKeygen(seed),
  encapsulate: (pk) => kem().encapsulate(pk),
  decapsulate: (ct, sk) => kem().decapsulate(ct, sk),
};

function pick(suite: SignatureSuite, needsNoble: boolean): CryptoBackend {
  return !needsNoble && nodeBackend.supports(suite) ? nodeBackend : nobleBackend;
}

let kemBackend: CryptoBackend | undefined;
function kem(): CryptoBackend {
  if (kemBackend === undefined) {
    try {
      nodeBackend.kemKeygen();
      kemBackend = nodeBackend;
    } catch {
      kemBackend = nobleBackend;
    }
  }
  return kemBackend;
}

export function backendByName(name: string): CryptoBackend {
  const backend = name === 'default' ? defaultBackend : BACKENDS[name];
  if (backend === undefined) throw new RangeError(`unknown crypto backend "${name}" (noble, node, default)`);
  return backend;
}
