/** Test actors: identities with keys acting on a MemoryLedger, signing deterministically with fixed seeds. */
import type { CID } from 'multiformats/cid';
import type { MemoryLedger } from '@dsm/protocol';
import {
  coSignState,
  idOf,
  makeGenesis,
  makeGenesisState,
  makeNextState,
  makePolicy,
  makeToken,
  nobleBackend,
  nodeBackend,
  signState,
  type Cosig,
  type CryptoBackend,
  type KeyPair,
  type Operation,
  type RawCondition,
  type SignatureSuite,
  type SignedState,
  type State,
  type TokenDefinition,
} from '@dsm/protocol';

export function seeded(length: number, seed: number): Uint8Array {
  // A tiny xorshift so every fixture is reproducible without a clock or an entropy source.
  let x = (seed * 2654435761) >>> 0 || 1;
  return new Uint8Array(length).map(() => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x & 0xff;
  });
}

export const T0 = 1_760_000_000_000;

export class Actor {
  readonly keys: KeyPair;
  readonly identity: CID;
  head: State;
  readonly chain: SignedState[] = [];

  constructor(
    readonly ledger: MemoryLedger,
    readonly seed: number,
    readonly suite: SignatureSuite = 'ml-dsa-44',
    readonly backend: CryptoBackend = nobleBackend,
    readonly deterministic = true,
  ) {
    const seedBytes = seeded(suite.startsWith('ml-dsa') ? 32 : 48, seed);
    this.keys = nobleBackend.keygen(suite, seedBytes);
    const genesis = makeGenesis({
      suite,
      publicKey: this.keys.publicKey,
      kemPublicKey: nobleBackend.kemKeygen(seeded(64, seed + 1000)).publicKey,
      nonce: seeded(32, seed + 2000),
      label: `actor-${seed}`,
    });
    this.identity = ledger.addGenesis(genesis);
    this.head = makeGenesisState(this.identity, T0);
  }

  private sign(state: State, cosigs?: Cosig[]): SignedState {
    const options = { deterministic: this.deterministic, ...(cosigs ? { cosigs } : {}) };
    return signState(
      this.deterministic ? nobleBackend : this.backend,
      this.suite,
      this.keys.secretKey,
      state,
      options,
    );
  }

  /** Signs and accepts state 0. */
  async start(): Promise<SignedState> {
    const signed = this.sign(this.head);
    await this.ledger.accept(signed);
    this.chain.push(signed);
    return signed;
  }

  /** Builds (without accepting) the next signed state. */
  build(
    op: Operation,
    options: { t?: number; token?: TokenDefinition; cosigners?: Actor[] } = {},
  ): SignedState {
    const state = makeNextState(this.head, op, options.t ?? this.head.t + 1000, options.token);
    const cosigs = options.cosigners?.map((c) =>
      coSignState(nobleBackend, c.suite, c.keys, state, { deterministic: true }),
    );
    return this.sign(state, cosigs && cosigs.length > 0 ? cosigs : undefined);
  }

  /** Builds, accepts and advances. */
  async act(
    op: Operation,
    options: { t?: number; token?: TokenDefinition; cosigners?: Actor[] } = {},
  ): Promise<SignedState> {
    const signed = this.build(op, options);
    await this.ledger.accept(signed);
    this.head = signed.state;
    this.chain.push(signed);
    return signed;
  }

  /** Defines a token with a policy and creates it. */
  async createToken(
    conditions: RawCondition[],
    initialSupply = 1000n,
    options: { cosigners?: Actor[]; t?: number } = {},
  ): Promise<{ tokenId: CID; token: TokenDefinition; policyId: CID }> {
    const policyId = this.ledger.addPolicy(makePolicy(this.identity, conditions, 'test policy'));
    const token = makeToken({
      issuer: this.identity,
      symbol: `T${this.seed}`,
      name: `Token ${this.seed}`,
      decimals: 2,
      initialSupply,
      policy: policyId,
      nonce: seeded(32, this.seed + this.chain.length + 3000),
    });
    const tokenId = this.ledger.addToken(token);
    await this.act({ kind: 'token.create', token: tokenId }, { token, ...options });
    return { tokenId, token, policyId };
  }

  async transfer(token: CID, amount: bigint, to: Actor, memo?: string): Promise<SignedState> {
    return this.act({
      kind: 'token.transfer',
      token,
      amount: amount.toString(),
      to: to.identity,
      ...(memo ? { memo } : {}),
    });
  }

  async receive(transfer: SignedState): Promise<SignedState> {
    const op = transfer.state.op;
    if (op.kind !== 'token.transfer') throw new Error('not a transfer');
    return this.act({
      kind: 'token.receive',
      token: op.token,
      amount: op.amount,
      from: transfer.state.identity,
      transfer: idOf(transfer.state),
    });
  }
}

export { nobleBackend, nodeBackend };
