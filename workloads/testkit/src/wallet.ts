/** A client that builds and signs its own chain and writes it to storage nodes over HTTP. */
import { storageRoutes } from '@dsm/api';
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
  type SignedState,
  type State,
  type TokenDefinition,
} from '@dsm/protocol';

export interface WriteAck {
  status: number;
  body: {
    id?: string;
    replicas?: string[];
    error?: { code: string; message: string; details: Record<string, unknown> };
  };
}

export async function postObject(url: string, value: unknown): Promise<WriteAck> {
  return postBytes(url, encode(value));
}

export async function postBytes(
  url: string,
  bytes: Uint8Array,
  path = storageRoutes.putObject.path,
): Promise<WriteAck> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.ipld.dag-cbor' },
    body: bytes,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

let nonceCounter = 0;
function nonce(): Uint8Array {
  const n = new Uint8Array(32);
  new DataView(n.buffer).setUint32(0, ++nonceCounter);
  n.set(crypto.getRandomValues(new Uint8Array(16)), 8);
  return n;
}

export class Wallet {
  readonly keys: KeyPair = nodeBackend.keygen('ml-dsa-44');
  readonly genesis: Genesis = makeGenesis({
    suite: 'ml-dsa-44',
    publicKey: this.keys.publicKey,
    kemPublicKey: nodeBackend.kemKeygen().publicKey,
    nonce: nonce(),
  });
  readonly identity: CID = idOf(this.genesis);
  head: State = makeGenesisState(this.identity, Date.now());

  sign(state: State): SignedState {
    return signState(nodeBackend, 'ml-dsa-44', this.keys.secretKey, state);
  }

  /** Genesis object and state 0. */
  opening(): unknown[] {
    return [this.genesis, this.sign(this.head)];
  }

  /** Builds and signs the next state and advances the local head (call `rewind` if it is not accepted). */
  next(op: Operation, token?: TokenDefinition): SignedState {
    this.head = makeNextState(this.head, op, Math.max(Date.now(), this.head.t), token);
    return this.sign(this.head);
  }

  /** The objects that define a token and the signed create state. */
  token(
    conditions: RawCondition[] = [],
    supply = 1_000_000n,
  ): { objects: unknown[]; tokenId: CID; token: TokenDefinition } {
    const policy = makePolicy(this.identity, conditions);
    const token = makeToken({
      issuer: this.identity,
      symbol: 'TST',
      name: 'Test',
      decimals: 0,
      initialSupply: supply,
      policy: idOf(policy),
      nonce: nonce(),
    });
    const tokenId = idOf(token);
    return {
      objects: [policy, token, this.next({ kind: 'token.create', token: tokenId }, token)],
      tokenId,
      token,
    };
  }
}
