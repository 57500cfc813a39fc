/**
 * A self-custody identity signing its own chain in memory with the protocol library, for unit tests that
 * hand its objects straight to a directory or a ledger (Wallet is the same for tests over HTTP).
 */
import { randomBytes } from 'node:crypto';
import {
  idOf,
  makeGenesis,
  makeGenesisState,
  makeNextState,
  makePolicy,
  makeToken,
  nodeBackend,
  signState,
  type CID,
  type Genesis,
  type KeyPair,
  type Operation,
  type RawCondition,
  type SignatureSuite,
  type SignedState,
  type State,
  type TokenDefinition,
} from '@dsm/protocol';

export class Signer {
  readonly keys: KeyPair;
  readonly genesis: Genesis;
  readonly identity: CID;
  head: State;

  /** ML-DSA-44 by default: the fastest suite, for tests; benches sign with the suite they measure. */
  constructor(readonly suite: SignatureSuite = 'ml-dsa-44') {
    this.keys = nodeBackend.keygen(suite);
    this.genesis = makeGenesis({
      suite,
      publicKey: this.keys.publicKey,
      kemPublicKey: nodeBackend.kemKeygen().publicKey,
      nonce: randomBytes(32),
    });
    this.identity = idOf(this.genesis);
    this.head = makeGenesisState(this.identity, Date.now());
  }

  sign(state: State): SignedState {
    return signState(nodeBackend, this.suite, this.keys.secretKey, state);
  }

  /** The genesis and the signed state 0 (call before the chain advances). */
  opening(): [Genesis, SignedState] {
    return [this.genesis, this.sign(this.head)];
  }

  /** Builds and signs the next state, and advances the head. */
  next(op: Operation, token?: TokenDefinition): SignedState {
    this.head = makeNextState(this.head, op, Math.max(Date.now(), this.head.t), token);
    return this.sign(this.head);
  }

  /** A token of this issuer: its policy, its definition and the signed create. */
  token(conditions: RawCondition[] = [], supply = 1_000_000n) {
    const policy = makePolicy(this.identity, conditions);
    const token = makeToken({
      issuer: this.identity,
      symbol: 'TST',
      name: 'Test',
      decimals: 0,
      initialSupply: supply,
      policy: idOf(policy),
      nonce: randomBytes(32),
    });
    const tokenId = idOf(token);
    const create = this.next({ kind: 'token.create', token: tokenId }, token);
    return { objects: [policy, token, create] as const, tokenId, token, create };
  }
}
