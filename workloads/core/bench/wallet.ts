/**
 * A self-custody identity of the bench: the testkit's Wallet signs with ML-DSA-44 (fast tests), this one
 * with the suite of the ceilings, so client-signed states are compared with the same verify rate.
 */
import { randomBytes } from 'node:crypto';
import {
  encode,
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
  type State,
  type TokenDefinition,
} from '@dsm/protocol';

export class SelfCustodyWallet {
  readonly keys: KeyPair;
  readonly genesis: Genesis;
  readonly identity: CID;
  /** The last state signed (where the next one follows on). */
  head: State;

  constructor(readonly suite: SignatureSuite) {
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

  /** The DAG-CBOR bytes of the signed head. */
  private signed(): Uint8Array {
    return encode(signState(nodeBackend, this.suite, this.keys.secretKey, this.head));
  }

  /** The genesis and the signed state 0, encoded (call before the chain advances). */
  opening(): [Uint8Array, Uint8Array] {
    return [encode(this.genesis), this.signed()];
  }

  /** Builds, signs and encodes the next state. */
  next(op: Operation, token?: TokenDefinition): { state: State; bytes: Uint8Array } {
    this.head = makeNextState(this.head, op, Math.max(Date.now(), this.head.t), token);
    return { state: this.head, bytes: this.signed() };
  }

  /** A token of this issuer: its policy and definition (objects) and the signed create (a state), encoded. */
  token(
    conditions: RawCondition[],
    supply: bigint,
  ): { tokenId: CID; objects: Uint8Array[]; create: Uint8Array } {
    const policy = makePolicy(this.identity, conditions);
    const token = makeToken({
      issuer: this.identity,
      symbol: 'B',
      name: 'Bench',
      decimals: 0,
      initialSupply: supply,
      policy: idOf(policy),
      nonce: randomBytes(32),
    });
    const tokenId = idOf(token);
    const create = this.next({ kind: 'token.create', token: tokenId }, token);
    return { tokenId, objects: [encode(policy), encode(token)], create: create.bytes };
  }
}
