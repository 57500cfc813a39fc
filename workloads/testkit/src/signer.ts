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
  type Genesis,
  type Operation,
  type RawCondition,
  type SignedState,
  type State,
  type TokenDefinition,
} from '@dsm/protocol';

export class Signer {
  readonly keys = nodeBackend.keygen('ml-dsa-44');
  readonly genesis = makeGenesis({
    suite: 'ml-dsa-44',
    publicKey: this.keys.publicKey,
    kemPublicKey: nodeBackend.kemKeygen().publicKey,
    nonce: randomBytes(32),
  });
  readonly identity = idOf(this.genesis);
  head: State = makeGenesisState(this.identity, Date.now());

  sign(state: State): SignedState {
    return signState(nodeBackend, 'ml-dsa-44', this.keys.secretKey, state);
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
