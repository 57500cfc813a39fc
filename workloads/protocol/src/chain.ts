/** Builders for identities, states and signatures: what a wallet or a custodial core node does to act. */
import type { CID } from 'multiformats/cid';
import { formatAmount } from './amount.js';
import { applyEffect, effectOf } from './balances.js';
import { signMessage, type KeyPair, type SignatureBackend } from './crypto/backend.js';
import { idOf } from './encoding.js';
import { genesisEntropy, nextEntropy } from './entropy.js';
import { DsmError } from './errors.js';
import type {
  Cosig,
  Genesis,
  Operation,
  Policy,
  RawCondition,
  SignedState,
  State,
  TokenDefinition,
} from './objects.js';
import { GENESIS_TYPE, POLICY_TYPE, SIGNED_STATE_TYPE, STATE_TYPE, TOKEN_TYPE } from './objects.js';
import { COSIGN_CONTEXT, STATE_CONTEXT, type SignatureSuite } from './suites.js';

export interface GenesisInput {
  suite: SignatureSuite;
  publicKey: Uint8Array;
  kemPublicKey: Uint8Array;
  /** Exactly 32 random bytes: the caller supplies randomness (this package reads no entropy source for ids). */
  nonce: Uint8Array;
  label?: string;
}

export function makeGenesis(input: GenesisInput): Genesis {
  const genesis: Genesis = {
    type: GENESIS_TYPE,
    suite: input.suite,
    publicKey: input.publicKey,
    kemPublicKey: input.kemPublicKey,
    nonce: input.nonce,
  };
  if (input.label !== undefined) genesis.label = input.label;
  return genesis;
}

export function makeGenesisState(identity: CID, t: number): State {
  return {
    type: STATE_TYPE,
    identity,
    n: 0,
    prev: null,
    t,
    entropy: genesisEntropy(identity),
    op: { kind: 'genesis', genesis: identity },
    balances: {},
  };
}

/**
 * The successor of `prev` after `op` at time `t`, with the balance sheet computed. For token.create the
 * definition is needed for its initial supply. Throws E_BALANCE when the operation would overdraw.
 */
export function makeNextState(prev: State, op: Operation, t: number, token?: TokenDefinition): State {
  const n = prev.n + 1;
  let balances = prev.balances;
  if (op.kind !== 'genesis') {
    const initialSupply = op.kind === 'token.create' ? BigInt(requireToken(token).initialSupply) : undefined;
    const applied = applyEffect(prev.balances, op.token.toString(), effectOf(op, initialSupply));
    if (!applied.ok) {
      throw new DsmError('E_BALANCE', `${op.kind} would make the balance of ${applied.token} negative`, {
        token: applied.token,
        n,
      });
    }
    balances = applied.balances;
  }
  return {
    type: STATE_TYPE,
    identity: prev.identity,
    n,
    prev: idOf(prev),
    t,
    entropy: nextEntropy(prev.entropy, op, n),
    op,
    balances,
  };
}

function requireToken(token: TokenDefinition | undefined): TokenDefinition {
  if (token === undefined) throw new RangeError('token.create needs the token definition');
  return token;
}

export function signState(
  backend: SignatureBackend,
  suite: SignatureSuite,
  secretKey: Uint8Array,
  state: State,
  options?: { deterministic?: boolean; cosigs?: Cosig[] },
): SignedState {
  const sig = backend.sign(suite, secretKey, idOf(state).bytes, STATE_CONTEXT, options);
  return signedState(state, sig, options?.cosigs);
}

/** `signState` with the signature made off the JavaScript thread where the backend can (`signAsync`). */
export async function signStateAsync(
  backend: SignatureBackend,
  suite: SignatureSuite,
  secretKey: Uint8Array,
  state: State,
  options?: { deterministic?: boolean; cosigs?: Cosig[] },
): Promise<SignedState> {
  const sig = await signMessage(backend, suite, secretKey, idOf(state).bytes, STATE_CONTEXT, options);
  return signedState(state, sig, options?.cosigs);
}

function signedState(state: State, sig: Uint8Array, cosigs: Cosig[] | undefined): SignedState {
  const signed: SignedState = { type: SIGNED_STATE_TYPE, state, sig };
  if (cosigs !== undefined && cosigs.length > 0) signed.cosigs = cosigs;
  return signed;
}

export function coSignState(
  backend: SignatureBackend,
  suite: SignatureSuite,
  keys: KeyPair,
  state: State,
  options?: { deterministic?: boolean },
): Cosig {
  return {
    signer: keys.publicKey,
    suite,
    sig: backend.sign(suite, keys.secretKey, idOf(state).bytes, COSIGN_CONTEXT, options),
  };
}

export interface TokenInput {
  issuer: CID;
  symbol: string;
  name: string;
  decimals: number;
  initialSupply: bigint;
  policy: CID;
  nonce: Uint8Array;
}

export function makeToken(input: TokenInput): TokenDefinition {
  return {
    type: TOKEN_TYPE,
    issuer: input.issuer,
    symbol: input.symbol,
    name: input.name,
    decimals: input.decimals,
    initialSupply: formatAmount(input.initialSupply),
    policy: input.policy,
    nonce: input.nonce,
  };
}

export function makePolicy(author: CID, conditions: RawCondition[], description?: string): Policy {
  const policy: Policy = { type: POLICY_TYPE, author, conditions };
  if (description !== undefined) policy.description = description;
  return policy;
}
