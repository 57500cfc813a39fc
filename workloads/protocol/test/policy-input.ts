/** Builds PolicyInput values for condition unit tests: real objects, fixed ids, no ledger. */
import type { CID } from 'multiformats/cid';
import {
  idOf,
  makeToken,
  nodeBackend,
  type Cosig,
  type Operation,
  type PolicyInput,
  type SignedState,
  type State,
  type TokenDefinition,
} from '@dsm/protocol';

export const id = (label: string): CID => idOf({ label });
export const issuer = id('issuer');
export const alice = id('alice');
export const bob = id('bob');
export const tokenId = id('token');

export const token: TokenDefinition = makeToken({
  issuer,
  symbol: 'TKN',
  name: 'Token',
  decimals: 0,
  initialSupply: 100n,
  policy: id('policy'),
  nonce: new Uint8Array(32),
});

export function stateOf(identity: CID, op: Operation, t = 1000): State {
  return {
    type: 'dsm/state@1',
    identity,
    n: 1,
    prev: id('prev'),
    t,
    entropy: new Uint8Array(32),
    op,
    balances: {},
  };
}

export function input(
  identity: CID,
  op: Operation,
  options: { t?: number; issuedBefore?: bigint; cosigs?: Cosig[] } = {},
): PolicyInput {
  const state = stateOf(identity, op, options.t);
  const signed: SignedState = { type: 'dsm/signed-state@1', state, sig: new Uint8Array(0) };
  if (options.cosigs) signed.cosigs = options.cosigs;
  return {
    tokenId,
    token,
    signed,
    stateId: idOf(state),
    previous: null,
    issuedBefore: options.issuedBefore ?? 0n,
    verify: nodeBackend.verify,
  };
}

export const ops = {
  create: { kind: 'token.create', token: tokenId } as const,
  mint: (amount: string) => ({ kind: 'token.mint', token: tokenId, amount }) as const,
  burn: (amount: string) => ({ kind: 'token.burn', token: tokenId, amount }) as const,
  transfer: (amount: string, to: CID) => ({ kind: 'token.transfer', token: tokenId, amount, to }) as const,
  receive: (amount: string, from: CID) =>
    ({ kind: 'token.receive', token: tokenId, amount, from, transfer: id('transfer') }) as const,
  lock: (amount: string) => ({ kind: 'token.lock', token: tokenId, amount, purpose: 'p' }) as const,
  unlock: (amount: string) => ({ kind: 'token.unlock', token: tokenId, amount, purpose: 'p' }) as const,
};

/** Parses a raw condition and reports the E_DECODE field it fails on, or 'ok'. */
export function parseOutcome(parse: () => unknown): string {
  try {
    parse();
    return 'ok';
  } catch (e) {
    return String((e as { details?: { field?: string } }).details?.field);
  }
}
