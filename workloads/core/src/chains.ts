/**
 * Acting on chains: build (for hosted identities) or accept (client-signed) a state, verify it with every
 * check of §4 including the clock skew and the token's CTPA policy, write it through to the storage nodes,
 * and only then answer. One identity's operations run one at a time. A state that could not be made durable
 * stays pending in this node's database and is finished before that identity's next operation, so a 503
 * never leaves a half-written chain and a retried request is not applied twice.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  CID,
  DsmError,
  decodeSignedState,
  encode,
  idOf,
  isDsmError,
  makeGenesis,
  makeGenesisState,
  makeNextState,
  makePolicy,
  makeToken,
  nextEntropy,
  signState,
  toHex,
  validatePolicy,
  verifyState,
  type Checkpoint,
  type CryptoBackend,
  type Genesis,
  type Operation,
  type RawCondition,
  type SignatureSuite,
  type SignedState,
  type State,
  type TokenDefinition,
  type World,
} from '@dsm/protocol';
import { KeyedLocks, key, keyPrefix, type Store } from '@dsm/runtime';
import type { Keystore, SecretKeys } from './keystore.js';
import type { CoreMetrics } from './metrics.js';
import type { StorageClient } from './storage-client.js';
import type { StorageWorld } from './world.js';

export interface Accepted {
  identity: string;
  n: number;
  stateId: string;
  op: Operation['kind'];
  balances: State['balances'];
  replicas: string[];
  /** True when this answer finishes an operation that an earlier request left pending. */
  resumed?: boolean;
}

export interface HostedIdentity {
  identity: string;
  suite: SignatureSuite;
  label?: string;
  createdAt: string;
}

export interface TokenSpec {
  symbol: string;
  name: string;
  decimals: number;
  initialSupply: bigint;
  conditions: RawCondition[];
  description?: string;
  /** The definition's 32-byte nonce. A retry with the same nonce names the same token and is not applied twice. */
  nonce?: Uint8Array;
}

const KEYS = {
  hosted: (identity: CID) => key('hosted', identity.bytes),
  hostedPrefix: () => keyPrefix('hosted'),
  keystore: (identity: CID) => key('keystore', identity.bytes),
  pending: (identity: CID) => key('pending', identity.bytes),
};

export class Chains {
  /** One identity's operations run one at a time. */
  private readonly queue = new KeyedLocks();
  /** Decrypted keys of hosted identities (decrypted on first use; the keystore on disk stays sealed). */
  private readonly secrets = new Map<string, SecretKeys>();
  /** Transfers auto-receive gave up on (refused by a rule that will not change). */
  private readonly refused = new Set<string>();
  /** Last known head of each identity this node wrote for. */
  private readonly heads = new Map<string, { state: State; stateId: CID }>();

  constructor(
    private readonly db: Store,
    private readonly storage: StorageClient,
    readonly world: StorageWorld,
    private readonly keystore: Keystore,
    private readonly backend: CryptoBackend,
    private readonly metrics: CoreMetrics,
    private readonly options: { maxClockSkewMs: number },
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Hosted identities

  async createIdentity(input: {
    suite: SignatureSuite;
    label?: string;
  }): Promise<Accepted & { genesis: Genesis }> {
    const keys = this.backend.keygen(input.suite);
    const kem = this.backend.kemKeygen();
    const genesis = makeGenesis({
      suite: input.suite,
      publicKey: keys.publicKey,
      kemPublicKey: kem.publicKey,
      nonce: randomBytes(32),
      ...(input.label !== undefined ? { label: input.label } : {}),
    });
    const identity = idOf(genesis);
    // Keys first: an identity whose genesis reached storage must never be without its keys.
    const record: HostedIdentity = {
      identity: identity.toString(),
      suite: input.suite,
      createdAt: new Date().toISOString(),
      ...(input.label ? { label: input.label } : {}),
    };
    await this.db
      .batch()
      .put(
        KEYS.keystore(identity),
        this.keystore.seal(identity, {
          suite: input.suite,
          secretKey: keys.secretKey,
          kemSecretKey: kem.secretKey,
        }),
      )
      .put(KEYS.hosted(identity), dagCbor.encode(record))
      .write({ sync: true });
    try {
      await this.storage.put(encode(genesis));
    } catch (e) {
      // Nothing of this identity is durable anywhere else yet: forget it rather than keep half of it.
      await this.db
        .batch()
        .delete(KEYS.keystore(identity))
        .delete(KEYS.hosted(identity))
        .write({ sync: true });
      throw e;
    }
    this.world.remember(identity, genesis);
    const state0 = makeGenesisState(identity, Date.now());
    const signed = signState(this.backend, input.suite, keys.secretKey, state0);
    const accepted = await this.queue.run(identity.toString(), () =>
      this.commit(genesis, identity, null, signed),
    );
    return { ...accepted, genesis };
  }

  async hosted(): Promise<HostedIdentity[]> {
    const out: HostedIdentity[] = [];
    for await (const { value } of this.db.prefix(KEYS.hostedPrefix()))
      out.push(dagCbor.decode(value) as HostedIdentity);
    return out;
  }

  async isHosted(identity: CID): Promise<boolean> {
    return (await this.db.get(KEYS.hosted(identity))) !== null;
  }

  private async secretsOf(identity: CID): Promise<SecretKeys> {
    const cached = this.secrets.get(identity.toString());
    if (cached) return cached;
    const record = await this.db.get(KEYS.keystore(identity));
    if (record === null)
      throw new DsmError('E_NOT_FOUND', `identity ${identity.toString()} is not hosted by this node`, {
        identity: identity.toString(),
      });
    const keys = this.keystore.open(identity, record);
    this.secrets.set(identity.toString(), keys);
    return keys;
  }

  /**
   * Builds, signs, verifies and writes the next state of a hosted identity. `build` sees the current head
   * and returns the operation (and, for token.create, the definition).
   */
  act(
    identity: CID,
    build: (head: State) => Promise<{ op: Operation; token?: TokenDefinition }>,
  ): Promise<Accepted> {
    return this.queue.run(identity.toString(), async () => {
      const keys = await this.secretsOf(identity);
      const resumed = await this.finishPending(identity);
      const genesis = await this.requireGenesis(identity);
      const head = await this.head(identity);
      if (head === undefined)
        throw new DsmError('E_NOT_FOUND', `identity ${identity.toString()} has no chain yet`, {
          identity: identity.toString(),
        });
      const { op, token } = await build(head.state);
      if (resumed && sameOp(resumed.op, op)) return { ...resumed.accepted, resumed: true };
      const t = Math.max(Date.now(), head.state.t);
      let state: State;
      try {
        state = makeNextState(head.state, op, t, token);
      } catch (e) {
        if (!isDsmError(e, 'E_BALANCE')) throw e;
        // Let verification report the first failing check in §4 order (an unknown token before an overdraft).
        state = {
          ...makeNextState(head.state, { kind: 'genesis', genesis: identity }, t),
          op,
          entropy: nextEntropy(head.state.entropy, op, head.state.n + 1),
        };
      }
      const signed = signState(this.backend, keys.suite, keys.secretKey, state);
      return this.commit(genesis, identity, head, signed);
    });
  }

  /** Accepts a state signed by a client that keeps its own keys. */
  submit(bytes: Uint8Array): Promise<Accepted> {
    const { signed } = decodeSignedState(bytes);
    const identity = signed.state.identity;
    return this.queue.run(identity.toString(), async () => {
      const resumed = await this.finishPending(identity);
      const stateId = idOf(signed.state);
      if (resumed && resumed.accepted.stateId === stateId.toString())
        return { ...resumed.accepted, resumed: true };
      const genesis = await this.requireGenesis(identity);
      const head = await this.head(identity);
      // A client that lost our answer sends the same state again: it is already the head, answer as before.
      if (head?.stateId.equals(stateId)) return { ...accepted(head.state, stateId, []), resumed: true };
      return this.commit(genesis, identity, signed.state.n === 0 ? null : (head ?? null), signed);
    });
  }

  /** Verifies (§4, with the clock skew: this node is the first to accept it) and writes through. */
  private async commit(
    genesis: Genesis,
    identity: CID,
    head: { state: State; stateId: CID } | null,
    signed: SignedState,
  ): Promise<Accepted> {
    const started = performance.now();
    const checkpoint = head && (await this.checkpoint(identity, head, signed.state));
    // One look at the storage head answers both fork questions (V7) about this identity. For a hosted
    // identity whose head this node wrote, no other writer exists: the storage nodes still refuse a fork.
    const known = head !== null && this.heads.get(identity.toString())?.stateId.equals(head.stateId);
    const stored = known ? { n: head.state.n, forked: false } : await this.storage.head(identity);
    const world: World = Object.create(this.world, {
      isForked: {
        value: (id: CID) => (id.equals(identity) ? (stored?.forked ?? false) : this.world.isForked(id)),
      },
      conflictingState: {
        value: (id: CID, n: number, stateId: CID) =>
          id.equals(identity) && (stored === undefined || n > stored.n)
            ? undefined
            : this.world.conflictingState(id, n, stateId),
      },
    }) as World;
    try {
      await verifyState({
        genesis,
        identity,
        checkpoint,
        signed,
        world,
        backend: this.backend,
        options: { now: Date.now(), maxClockSkewMs: this.options.maxClockSkewMs },
      });
      this.metrics.policyChecked(signed.state.op.kind, true);
    } catch (e) {
      if (isDsmError(e, 'E_POLICY') && e.details.rule === 'V6')
        this.metrics.policyChecked(signed.state.op.kind, false);
      throw e;
    } finally {
      this.metrics.verification.observe(performance.now() - started);
    }
    const bytes = encode(signed);
    const stateId = idOf(signed.state);
    await this.db.batch().put(KEYS.pending(identity), bytes).write({ sync: true });
    const ack = await this.storage.put(bytes);
    // Not synced: a pending record that survives a crash is only written again (idempotently).
    await this.db.batch().delete(KEYS.pending(identity)).write();
    // Only identities this node acts for are cached: anyone may advance a self-custody chain elsewhere.
    if (await this.isHosted(identity)) this.heads.set(identity.toString(), { state: signed.state, stateId });
    this.metrics.transition(signed.state.op.kind);
    return accepted(signed.state, stateId, ack.replicas);
  }

  /**
   * Finishes a state that an earlier request signed but could not make durable (storage was down):
   * writes it (idempotent) or finds it already stored. Until that succeeds, the identity takes no new
   * operation: building on a different state at that height would fork the chain.
   */
  private async finishPending(identity: CID): Promise<{ op: Operation; accepted: Accepted } | undefined> {
    const bytes = await this.db.get(KEYS.pending(identity));
    if (bytes === null) return undefined;
    const { signed, stateId } = decodeSignedState(bytes);
    let ack;
    try {
      ack = await this.storage.put(bytes);
    } catch (e) {
      if (isDsmError(e, 'E_UNAVAILABLE')) {
        throw new DsmError(
          'E_UNAVAILABLE',
          `state ${signed.state.n} of ${identity.toString()} is still waiting for the storage nodes; retry later`,
          {
            identity: identity.toString(),
            pending: stateId.toString(),
          },
        );
      }
      // Refused now (e.g. a fork appeared meanwhile): it was never acknowledged, drop it.
      await this.db.batch().delete(KEYS.pending(identity)).write({ sync: true });
      this.heads.delete(identity.toString());
      return undefined;
    }
    await this.db.batch().delete(KEYS.pending(identity)).write({ sync: true });
    if (await this.isHosted(identity)) this.heads.set(identity.toString(), { state: signed.state, stateId });
    this.metrics.transition(signed.state.op.kind);
    return { op: signed.state.op, accepted: accepted(signed.state, stateId, ack.replicas) };
  }

  async pendingState(identity: CID): Promise<string | undefined> {
    const bytes = await this.db.get(KEYS.pending(identity));
    return bytes === null ? undefined : decodeSignedState(bytes).stateId.toString();
  }

  private async requireGenesis(identity: CID): Promise<Genesis> {
    const genesis = await this.world.genesis(identity);
    if (genesis === undefined) {
      throw new DsmError(
        'E_LINK',
        `unknown identity ${identity.toString()}: store its genesis first (POST /v1/objects)`,
        { identity: identity.toString() },
      );
    }
    return genesis;
  }

  /** The head this node knows, else the storage nodes'. */
  async head(identity: CID): Promise<{ state: State; stateId: CID } | undefined> {
    const cached = this.heads.get(identity.toString());
    if (cached) return cached;
    const head = await this.storage.head(identity);
    if (head === undefined) return undefined;
    const stateId = CID.parse(head.stateId);
    const state = await this.world.acceptedState(stateId);
    if (state === undefined) return undefined;
    const value = { state, stateId };
    if (await this.isHosted(identity)) this.heads.set(identity.toString(), value);
    return value;
  }

  /** What verifying `state` needs of its chain's history: the receive's transfer, the issuer's supply. */
  private async checkpoint(
    identity: CID,
    head: { state: State; stateId: CID },
    state: State,
  ): Promise<Checkpoint> {
    const received = new Set<string>();
    const issued = new Map<string, bigint>();
    const op = state.op;
    if (op.kind === 'token.receive') {
      const entry = await this.storage.transfer(op.transfer);
      if (entry?.to === identity.toString() && entry.received) received.add(op.transfer.toString());
    }
    // Only a mint can use the issued supply (supplyCap); other kinds never read it.
    if (op.kind === 'token.mint') {
      const token = await this.world.tokenDefinition(op.token);
      if (token?.issuer.equals(identity)) {
        const record = await this.storage.token(op.token);
        if (record?.supply) issued.set(op.token.toString(), BigInt(record.supply.issued));
      }
    }
    return { state: head.state, stateId: head.stateId, received, issued };
  }

  // ---------------------------------------------------------------------------------------------
  // Token operations of hosted identities

  async createToken(identity: CID, spec: TokenSpec): Promise<Accepted & { token: string; policy: string }> {
    const policy = makePolicy(identity, spec.conditions, spec.description);
    validatePolicy(policy); // an invalid policy is refused before anything is written
    const token = makeToken({
      issuer: identity,
      symbol: spec.symbol,
      name: spec.name,
      decimals: spec.decimals,
      initialSupply: spec.initialSupply,
      policy: idOf(policy),
      nonce: spec.nonce ?? randomBytes(32),
    });
    const tokenId = idOf(token);
    const created = await this.world.tokenCreation(tokenId);
    const creator = created && (await this.world.acceptedState(created));
    if (created && creator?.identity.equals(identity)) {
      // The same request again (same nonce): answer with the create that happened.
      return {
        ...accepted(creator, created, []),
        token: tokenId.toString(),
        policy: idOf(policy).toString(),
        resumed: true,
      };
    }
    await this.storage.put(encode(policy));
    await this.storage.put(encode(token));
    this.world.remember(idOf(policy), policy);
    this.world.remember(tokenId, token);
    const result = await this.act(identity, async () => ({
      op: { kind: 'token.create', token: tokenId },
      token,
    }));
    this.metrics.tokens.inc();
    return { ...result, token: tokenId.toString(), policy: idOf(policy).toString() };
  }

  /** Receives one transfer addressed to a hosted identity; an already received one answers as such. */
  async receive(identity: CID, transferId: CID): Promise<Accepted & { alreadyReceived?: boolean }> {
    const found = await this.storage.transfer(transferId);
    const entry = found?.to === identity.toString() ? found : undefined;
    if (entry === undefined) {
      throw new DsmError(
        'E_RECEIVE',
        `transfer ${transferId.toString()} is not in the inbox of ${identity.toString()}`,
        { transfer: transferId.toString() },
      );
    }
    if (entry.received && entry.receivedBy) {
      const head = await this.head(identity);
      return {
        identity: identity.toString(),
        n: head?.state.n ?? 0,
        stateId: entry.receivedBy,
        op: 'token.receive',
        balances: head?.state.balances ?? {},
        replicas: [],
        alreadyReceived: true,
      };
    }
    return this.act(identity, async () => ({
      op: {
        kind: 'token.receive',
        token: CID.parse(entry.token),
        amount: entry.amount,
        from: CID.parse(entry.from),
        transfer: transferId,
      },
    }));
  }

  /** Receives every pending transfer of every hosted identity (the auto-receive loop). */
  async receiveAll(): Promise<number> {
    let count = 0;
    for (const hosted of await this.hosted()) {
      const identity = CID.parse(hosted.identity);
      const pending = await this.storage.inbox(identity, true);
      for (const entry of pending) {
        if (this.refused.has(entry.transfer)) continue;
        try {
          await this.receive(identity, CID.parse(entry.transfer));
          count++;
        } catch (e) {
          if (!isDsmError(e)) throw e;
          if (e.code === 'E_UNAVAILABLE') return count;
          // Refused for good (sender forked, policy): it stays in the inbox for a receive on request,
          // but the poll stops signing a new attempt every round.
          this.refused.add(entry.transfer);
        }
      }
    }
    return count;
  }
}

function accepted(state: State, stateId: CID, replicas: string[]): Accepted {
  return {
    identity: state.identity.toString(),
    n: state.n,
    stateId: stateId.toString(),
    op: state.op.kind,
    balances: state.balances,
    replicas,
  };
}

function sameOp(a: Operation, b: Operation): boolean {
  return toHex(encode(a)) === toHex(encode(b));
}
