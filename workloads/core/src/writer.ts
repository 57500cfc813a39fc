/**
 * The chain writer: builds (for hosted identities) or accepts (client-signed) a state, verifies it with every
 * check of §4 including the clock skew and the token's CTPA policy, writes it through to the storage nodes,
 * and only then answers. One identity's operations run one at a time. A state that could not be made durable
 * stays pending in this node's database and is finished before that identity's next operation, so a 503
 * never leaves a half-written chain; the key of the request that produced it is written with it, so a
 * retried request is not applied twice.
 */
import type * as api from '@dsm/api';
import { isPolicyViolation, isRefusal, type TransferEntry } from '@dsm/api';
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
  makeNextState,
  makePolicy,
  makeToken,
  nextEntropy,
  overlayWorld,
  signStateAsync,
  validatePolicy,
  verifyState,
  type Checkpoint,
  type CryptoBackend,
  type DsmObject,
  type Genesis,
  type Operation,
  type RawCondition,
  type SignedState,
  type State,
  type TokenDefinition,
  type World,
} from '@dsm/protocol';
import { BoundedMap, KeyedLocks, key, keyPrefix, type Store, type WriteBatch } from '@dsm/runtime';
import type { HostedIdentities, PendingWriter } from './hosted.js';
import type { CoreMetrics } from './metrics.js';
import { RequestKeys, type KeyRecord, type RequestKey } from './request-keys.js';
import type { StorageClient } from './storage-client.js';

/** The answer to every state-changing operation (the wire type of `@dsm/api`). */
export type Accepted = api.Accepted;
/** The answer to a request whose result is one new state (identity and token creation add their ids). */
export type Answer = api.Accepted;

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

/**
 * What a builder returns: the operation, for token.create the definition, and for token.receive the
 * transfer's entry as the builder just read it under the identity's lock (verification need not ask again).
 */
export interface Built {
  op: Operation;
  token?: TokenDefinition;
  transfer?: TransferEntry;
}

/** What the writer asks of the storage nodes. */
export type ChainStorage = Pick<StorageClient, 'put' | 'head' | 'transfer' | 'token'>;

/** The World the writer verifies against, with the genesis lookup and the cache of content it just wrote. */
export interface ChainWorld extends World {
  genesis(identity: CID): Promise<Genesis | undefined>;
  remember(id: CID, object: DsmObject): void;
}

const KEYS = {
  pending: (identity: CID) => key('pending', identity.bytes),
  pendingPrefix: () => keyPrefix('pending'),
};

/**
 * A state this node signed (or accepted) and wrote durably before the storage nodes had it: the signed
 * state, the request key that produced it, and for a new identity its genesis (which must reach storage
 * first). Finished (written, or dropped if refused for good) before the identity's next operation.
 */
interface Pending {
  signed: Uint8Array;
  key?: string;
  genesis?: Uint8Array;
}

function encodePending(pending: Pending): Uint8Array {
  return dagCbor.encode(pending);
}

function decodePending(bytes: Uint8Array): Pending {
  const value = dagCbor.decode(bytes) as Pending | Record<string, unknown>;
  // Records of 0.1.0 held the bare signed state.
  if (value !== null && typeof value === 'object' && value.signed instanceof Uint8Array)
    return value as Pending;
  return { signed: bytes };
}

/** What finishing a pending state came to. */
export type Finished =
  { accepted: Accepted; signed: SignedState } | { refused: DsmError; signed: SignedState } | undefined;

export class ChainWriter implements PendingWriter {
  /** One identity's operations run one at a time. */
  private readonly queue = new KeyedLocks();
  /** Last known head of each identity this node wrote for. */
  private readonly heads = new Map<string, { state: State; stateId: CID }>();
  /**
   * The head this node last accepted for a client-signed chain. Only a hint: the client may extend its
   * chain elsewhere too, so it is used only for a state that extends it exactly, and the storage nodes
   * judge every state against their own predecessor (a stale hint can only end in their E_FORK).
   */
  private readonly selfHeads = new BoundedMap<string, { state: State; stateId: CID }>(100_000);
  /** Identities known to have no pending record (checked, or deleted since): no read before each operation. */
  private readonly settled = new BoundedMap<string, true>(100_000);
  readonly requests: RequestKeys;

  constructor(
    private readonly db: Store,
    private readonly storage: ChainStorage,
    readonly world: ChainWorld,
    private readonly identities: HostedIdentities,
    private readonly backend: CryptoBackend,
    private readonly metrics: CoreMetrics,
    private readonly options: { maxClockSkewMs: number },
  ) {
    this.requests = new RequestKeys(db);
  }

  /** Runs `work` holding `identity`'s lock: that identity's operations run one at a time. */
  run<T>(identity: CID, work: () => Promise<T>): Promise<T> {
    return this.queue.run(identity.toString(), work);
  }

  // ---------------------------------------------------------------------------------------------
  // Hosted identities acting

  /**
   * Builds, signs, verifies and writes the next state of a hosted identity. `build` sees the current head
   * and returns the operation (and, for token.create, the definition).
   */
  act(identity: CID, build: (head: State) => Promise<Built>, request?: RequestKey): Promise<Accepted> {
    return this.run(identity, () => this.actLocked(identity, build, request));
  }

  /** `act` with the identity's lock already held. */
  async actLocked(
    identity: CID,
    build: (head: State) => Promise<Built>,
    request?: RequestKey,
  ): Promise<Accepted> {
    const keys = await this.identities.secretsOf(identity);
    await this.finishPending(identity);
    const genesis = await this.requireGenesis(identity);
    const head = await this.head(identity);
    if (head === undefined)
      throw new DsmError('E_NOT_FOUND', `identity ${identity.toString()} has no chain yet`, {
        identity: identity.toString(),
      });
    const { op, token, transfer } = await build(head.state);
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
    // On the thread pool: the event loop serves other identities while this one's signature is made.
    const signed = await signStateAsync(this.backend, keys.suite, keys.secretKey, state);
    return this.commit(genesis, identity, head, signed, request, transfer);
  }

  async createToken(identity: CID, spec: TokenSpec, request?: RequestKey): Promise<Answer> {
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
    // Under the identity's lock, after what is pending: a retry (same nonce) whose create was pending, or
    // that races the first request, finds the create instead of making a second one.
    const result = await this.run(identity, async () => {
      await this.finishPending(identity);
      const created = await this.world.tokenCreation(tokenId);
      const creator = created && (await this.world.acceptedState(created));
      if (created && creator?.identity.equals(identity))
        return { ...(await this.answer(creator, created, [])), resumed: true };
      await this.storage.put(encode(policy));
      await this.storage.put(encode(token));
      this.world.remember(idOf(policy), policy);
      this.world.remember(tokenId, token);
      return this.actLocked(
        identity,
        async () => ({ op: { kind: 'token.create', token: tokenId }, token }),
        request,
      );
    });
    if (result.resumed) return result;
    this.metrics.tokens.inc();
    return { ...result, token: tokenId.toString(), policy: idOf(policy).toString() };
  }

  /** The pending state 0 of a new identity (see HostedIdentities.create). */
  addPending(
    batch: WriteBatch,
    identity: CID,
    signed: SignedState,
    genesis: Genesis,
    request?: RequestKey,
  ): void {
    this.settled.delete(identity.toString());
    batch.put(
      KEYS.pending(identity),
      encodePending({
        signed: encode(signed),
        genesis: encode(genesis),
        ...(request ? { key: request.key } : {}),
      }),
    );
    if (request) this.requests.recordState(batch, request, identity, idOf(signed.state));
  }

  async finishCreated(identity: CID, genesis: Genesis, signed: SignedState): Promise<Answer> {
    this.world.remember(identity, genesis);
    return this.run(identity, async () => {
      const finished = await this.finishPending(identity);
      if (finished !== undefined && 'refused' in finished) throw finished.refused;
      // Undefined: the background pass (finishAllPending) got there first.
      if (finished === undefined && !(await this.identities.isHosted(identity)))
        throw new DsmError('E_UNAVAILABLE', 'the identity could not be created; retry', {
          identity: identity.toString(),
        });
      return this.answer(signed.state, idOf(signed.state), finished?.accepted.replicas ?? []);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Requests and answers

  /**
   * The answer a keyed request already got, or undefined when it must run (new key, or its state was
   * refused for good). A state still pending is finished first; E_CONFLICT for a key reused for another
   * request; E_UNAVAILABLE while the result cannot be read back yet (retry with the same key).
   */
  async replay(request: RequestKey): Promise<{ status: number; body: unknown } | undefined> {
    const record = await this.requests.find(request);
    if (record === undefined || record.failed) return undefined;
    if (record.response) return record.response;
    const { identity, stateId } = record as Required<Pick<KeyRecord, 'identity' | 'stateId'>>;
    return this.run(identity, async () => {
      const finished = await this.finishPending(identity);
      if (finished && 'refused' in finished && idOf(finished.signed.state).equals(stateId)) return undefined;
      const state = (await this.world.acceptedState(stateId)) ?? undefined;
      if (state === undefined) {
        throw new DsmError(
          'E_UNAVAILABLE',
          `the result of this request (state ${stateId.toString()}) cannot be read back yet; retry with the same Idempotency-Key`,
          { identity: identity.toString(), stateId: stateId.toString() },
        );
      }
      return { status: 201, body: { ...(await this.answer(state, stateId, [])), resumed: true } };
    });
  }

  /** The answer for the state a request produced; the same whether it is sent first or replayed. */
  async answer(state: State, stateId: CID, replicas: string[]): Promise<Answer> {
    const base = accepted(state, stateId, replicas);
    if (state.op.kind === 'genesis') {
      const genesis = await this.requireGenesis(state.identity);
      return {
        ...base,
        suite: genesis.suite,
        ...(genesis.label !== undefined ? { label: genesis.label } : {}),
      };
    }
    if (state.op.kind === 'token.create') {
      const definition = await this.world.tokenDefinition(state.op.token);
      return {
        ...base,
        token: state.op.token.toString(),
        ...(definition ? { policy: definition.policy.toString() } : {}),
      };
    }
    return base;
  }

  // ---------------------------------------------------------------------------------------------
  // Client-signed states

  /** Accepts a state signed by a client that keeps its own keys. */
  submit(bytes: Uint8Array): Promise<Accepted> {
    const { signed } = decodeSignedState(bytes);
    const identity = signed.state.identity;
    // Whatever went wrong (a fork, a refusal, an outage), the next state of this chain is judged against
    // the storage nodes' head again, not against what this node saw last.
    const judged = (e: unknown) => {
      this.selfHeads.delete(identity.toString());
      throw e;
    };
    return this.run(identity, async () => {
      const resumed = await this.finishPending(identity);
      const stateId = idOf(signed.state);
      if (resumed && 'accepted' in resumed && resumed.accepted.stateId === stateId.toString())
        return { ...resumed.accepted, resumed: true };
      const genesis = await this.requireGenesis(identity);
      const hint = this.selfHeads.get(identity.toString());
      const extendsHint =
        hint !== undefined && signed.state.n === hint.state.n + 1 && signed.state.prev?.equals(hint.stateId);
      const head = extendsHint ? hint : await this.head(identity);
      // A client that lost our answer sends the same state again: it is already the head, answer as before.
      if (head?.stateId.equals(stateId)) return { ...accepted(head.state, stateId, []), resumed: true };
      if (head !== undefined && signed.state.n <= head.state.n) {
        // Not an extension of the head: a state already accepted lower down (a no-op), or a second
        // successor. The storage nodes judge it against its own predecessor, keep a valid one as fork
        // evidence and mark the identity forked (409 E_FORK), exactly as when it is sent to them.
        await this.storage.put(bytes);
        return { ...accepted(signed.state, stateId, []), resumed: true };
      }
      return this.commit(genesis, identity, signed.state.n === 0 ? null : (head ?? null), signed);
    }).catch(judged);
  }

  // ---------------------------------------------------------------------------------------------
  // Commit and pending states

  /** Verifies (§4, with the clock skew: this node is the first to accept it) and writes through. */
  private async commit(
    genesis: Genesis,
    identity: CID,
    head: { state: State; stateId: CID } | null,
    signed: SignedState,
    request?: RequestKey,
    transfer?: TransferEntry,
  ): Promise<Accepted> {
    const started = performance.now();
    const checkpoint = head && (await this.checkpoint(identity, head, signed.state, transfer));
    // One look at the storage head answers both fork questions (V7) about this identity. For a hosted
    // identity whose head this node wrote, no other writer exists: the storage nodes still refuse a fork.
    const name = identity.toString();
    const known =
      head !== null &&
      (this.heads.get(name) ?? this.selfHeads.get(name))?.stateId.equals(head.stateId) === true;
    const stored = known ? { n: head.state.n, forked: false } : await this.storage.head(identity);
    const world = overlayWorld(this.world, {
      isForked: (id) => (id.equals(identity) ? (stored?.forked ?? false) : this.world.isForked(id)),
      conflictingState: (id, n, stateId) =>
        id.equals(identity) && (stored === undefined || n > stored.n)
          ? undefined
          : this.world.conflictingState(id, n, stateId),
    });
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
      if (isPolicyViolation(e)) this.metrics.policyChecked(signed.state.op.kind, false);
      throw e;
    } finally {
      this.metrics.verification.observe(performance.now() - started);
    }
    const bytes = encode(signed);
    const stateId = idOf(signed.state);
    // The request's key goes into the same durable write as the state it produced.
    const batch = this.db
      .batch()
      .put(
        KEYS.pending(identity),
        encodePending({ signed: bytes, ...(request ? { key: request.key } : {}) }),
      );
    if (request) this.requests.recordState(batch, request, identity, stateId);
    this.settled.delete(name);
    await batch.write({ sync: true });
    let ack;
    try {
      ack = await this.storage.put(bytes);
    } catch (e) {
      // Refused for good: it never took effect; forget it now. Anything else (503, an internal error, an
      // answer that breaks the contract) may have stored it: it stays pending and is finished later.
      if (isRefusal(e)) await this.dropPending(identity, request?.key);
      throw e;
    }
    // Not synced: a pending record that survives a crash is only written again (idempotently).
    await this.db.batch().delete(KEYS.pending(identity)).write();
    this.settled.set(name, true);
    // Cached as decoded from its bytes (DAG-CBOR's key order), as any node reads it from storage, so that
    // reads answer the same bytes from every core node and before and after a restart. Only the heads of
    // identities this node acts for are believed; anyone may advance a self-custody chain elsewhere.
    const decoded = decodeSignedState(bytes).signed;
    const written = { state: decoded.state, stateId };
    if (await this.identities.isHosted(identity)) this.heads.set(name, written);
    else this.selfHeads.set(name, written);
    // Accepted content by its id: a receive of this transfer (or any read of it) need not fetch it back.
    this.world.remember(stateId, decoded);
    this.metrics.transition(signed.state.op.kind);
    return accepted(signed.state, stateId, ack.replicas);
  }

  /**
   * Finishes a state that an earlier request signed but could not make durable (storage was down, or the
   * node crashed): writes it (idempotent) or finds it already stored. Until that succeeds, the identity
   * takes no new operation: building on a different state at that height would fork the chain.
   * Call with the identity's lock held.
   */
  async finishPending(identity: CID): Promise<Finished> {
    if (this.settled.has(identity.toString())) return undefined;
    const bytes = await this.db.get(KEYS.pending(identity));
    if (bytes === null) {
      this.settled.set(identity.toString(), true);
      return undefined;
    }
    const pending = decodePending(bytes);
    const { signed, stateId } = decodeSignedState(pending.signed);
    let ack;
    try {
      if (pending.genesis) await this.storage.put(pending.genesis);
      ack = await this.storage.put(pending.signed);
    } catch (e) {
      if (isRefusal(e)) {
        // Refused now (e.g. a fork appeared meanwhile): it was never acknowledged, drop it.
        await this.dropPending(identity, pending.key, pending.genesis !== undefined);
        return { refused: e as DsmError, signed };
      }
      // The outcome is unknown: it stays pending until a storage node gives a verdict.
      throw new DsmError(
        'E_UNAVAILABLE',
        `state ${signed.state.n} of ${identity.toString()} is still waiting for the storage nodes; retry later`,
        { identity: identity.toString(), pending: stateId.toString() },
      );
    }
    await this.db.batch().delete(KEYS.pending(identity)).write({ sync: true });
    this.settled.set(identity.toString(), true);
    // The finished state need not be the head: a pending record restored from a backup, or finished by a
    // run of this node that crashed before deleting it, may have been built on since. The next operation
    // reads the head from the storage nodes (a read quorum sees every acknowledged state).
    this.heads.delete(identity.toString());
    this.metrics.transition(signed.state.op.kind);
    return { accepted: accepted(signed.state, stateId, ack.replicas), signed };
  }

  /**
   * Forgets a pending state refused for good, marking its request key as without effect. A refused state 0
   * takes the whole identity with it: nothing of it may stay behind to block anything.
   */
  private async dropPending(identity: CID, requestKey?: string, wholeIdentity = false): Promise<void> {
    const batch = this.db.batch().delete(KEYS.pending(identity));
    const record = requestKey === undefined ? undefined : await this.requests.get(requestKey);
    if (record && requestKey !== undefined) this.requests.markFailed(batch, requestKey, record);
    if (wholeIdentity) this.identities.removeFrom(batch, identity);
    await batch.write({ sync: true });
    this.settled.set(identity.toString(), true);
    this.heads.delete(identity.toString());
    this.selfHeads.delete(identity.toString());
    if (wholeIdentity) this.identities.forget(identity);
  }

  /** Finishes every pending state (after a crash or an outage); returns how many were finished. */
  async finishAllPending(): Promise<number> {
    const identities: CID[] = [];
    for await (const { key: k } of this.db.prefix(KEYS.pendingPrefix()))
      identities.push(CID.decode(k.subarray(KEYS.pendingPrefix().length)));
    let finished = 0;
    for (const identity of identities) {
      try {
        if (await this.run(identity, () => this.finishPending(identity))) finished++;
      } catch (e) {
        if (isDsmError(e, 'E_UNAVAILABLE')) return finished; // storage still down: next round
        throw e;
      }
    }
    return finished;
  }

  async pendingState(identity: CID): Promise<string | undefined> {
    const bytes = await this.db.get(KEYS.pending(identity));
    return bytes === null ? undefined : decodeSignedState(decodePending(bytes).signed).stateId.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // What a state is verified against

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
    if (await this.identities.isHosted(identity)) this.heads.set(identity.toString(), value);
    return value;
  }

  /** What verifying `state` needs of its chain's history: the receive's transfer, the issuer's supply. */
  private async checkpoint(
    identity: CID,
    head: { state: State; stateId: CID },
    state: State,
    known?: TransferEntry,
  ): Promise<Checkpoint> {
    const received = new Set<string>();
    const issued = new Map<string, bigint>();
    const op = state.op;
    if (op.kind === 'token.receive') {
      const entry =
        known?.transfer === op.transfer.toString() ? known : await this.storage.transfer(op.transfer);
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
}

export function accepted(state: State, stateId: CID, replicas: string[]): Accepted {
  return {
    identity: state.identity.toString(),
    n: state.n,
    stateId: stateId.toString(),
    op: state.op.kind,
    balances: state.balances,
    replicas,
  };
}
