/**
 * State verification (§4): the ten checks in their normative order, the first failure reported with the
 * failing state and rule. Linear and resumable: each accepted state advances a checkpoint.
 */
import type { CID } from 'multiformats/cid';
import { applyEffect, balancesEqual, effectOf } from './balances.js';
import { verifySignature, type SignatureBackend } from './crypto/backend.js';
import { decodeSignedState } from './decode.js';
import { bytesEqual, idOf } from './encoding.js';
import { genesisEntropy, nextEntropy } from './entropy.js';
import { DsmError, isDsmError, type DsmErrorCode, type ErrorDetails } from './errors.js';
import type { Genesis, Policy, SignedState, State, TokenDefinition, TransferOp } from './objects.js';
import { overlayWorld } from './overlay.js';
import { enforcePolicy, validatePolicy, type ValidPolicy } from './policy/policy.js';
import { STATE_CONTEXT } from './suites.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * What a verifier knows beyond the chain itself. Storage nodes answer from their directory, core nodes
 * from storage, offline verification from an exported bundle. Content must already be checked by id and type.
 */
export interface World {
  /** A token definition by its id (content only: whether its create was accepted is `tokenCreated`). */
  tokenDefinition(token: CID): MaybePromise<TokenDefinition | undefined>;
  /** The id of the accepted token.create state of `token`, if any (in any chain). */
  tokenCreation(token: CID): MaybePromise<CID | undefined>;
  policy(anchor: CID): MaybePromise<Policy | undefined>;
  /** An accepted state by id (used to resolve the transfer a receive points at). */
  acceptedState(stateId: CID): MaybePromise<State | undefined>;
  isForked(identity: CID): MaybePromise<boolean>;
  /**
   * The lowest height at which a fork of `identity` is known, if any. Lets chain verification tell an
   * already accepted chain's states up to the fork (valid) from the later ones (E_FORK). Optional: without
   * it, re-verification judges the chain's own states by the fork oracle alone.
   */
  forkHeight?(identity: CID): MaybePromise<number | undefined>;
  /**
   * The fork oracle (V7): the id of another already accepted state of `identity` at height `n`
   * whose id differs from `stateId`, if one is known.
   */
  conflictingState(identity: CID, n: number, stateId: CID): MaybePromise<CID | undefined>;
  /** Parsed-policy cache hook; optional. */
  validPolicy?(anchor: CID, policy: Policy): ValidPolicy;
}

/** A verified state with what the chain has done up to it (§4: "a checkpoint"). */
export interface Checkpoint {
  readonly state: State;
  readonly stateId: CID;
  /** Transfer state ids (text) already received by this chain. */
  readonly received: ReadonlySet<string>;
  /** Tokens created in this chain (this identity is their issuer) → issued supply (initialSupply + mints). */
  readonly issued: ReadonlyMap<string, bigint>;
}

export interface VerifyOptions {
  /** Set only when a node first accepts a state from its signer: enables the ±maxClockSkew check. */
  now?: number;
  /** @default 30000 */
  maxClockSkewMs?: number;
}

export type Rule = 'decode' | 'V1' | 'V2' | 'V3' | 'V4' | 'resolution' | 'preconditions' | 'V5' | 'V6' | 'V7';

/** What accepting one state changes in its chain's checkpoint. */
export interface Accepted {
  readonly signed: SignedState;
  readonly stateId: CID;
  readonly received?: string;
  readonly issued?: { token: string; supply: bigint };
}

export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;

function fail(
  rule: Rule,
  code: DsmErrorCode,
  message: string,
  state: State | undefined,
  details: ErrorDetails = {},
): never {
  throw new DsmError(code, message, {
    rule,
    ...(state && typeof state.n === 'number' ? { n: state.n } : {}),
    ...details,
  });
}

/** A decoded state with its id and its signature check already under way. */
export interface PreparedState {
  readonly signed: SignedState;
  readonly stateId: CID;
  readonly signature: Promise<boolean>;
}

/** Decodes bytes (or takes an already decoded envelope) as a signed state; E_DECODE carries rule 'decode'. */
function asSignedState(input: Uint8Array | SignedState): { signed: SignedState; stateId: CID } {
  if (!(input instanceof Uint8Array)) return { signed: input, stateId: idOf(input.state) };
  try {
    return decodeSignedState(input);
  } catch (e) {
    if (isDsmError(e)) throw new DsmError(e.code, e.message, { rule: 'decode', ...e.details });
    throw e;
  }
}

export interface StateToVerify {
  genesis: Genesis;
  identity: CID;
  /** null for state 0. */
  checkpoint: Checkpoint | null;
  signed: Uint8Array | SignedState | PreparedState;
  world: World;
  backend: SignatureBackend;
  options?: VerifyOptions;
}

/** Runs every check of §4 on one state; throws the first failure as a DsmError with `details.rule`. */
export async function verifyState(input: StateToVerify): Promise<Accepted> {
  const { genesis, identity, checkpoint, world, backend, options = {} } = input;
  const prepared = 'signature' in input.signed ? input.signed : prepare(input.signed, genesis, backend);
  const { signed, stateId } = prepared;
  const state = signed.state;
  const prev = checkpoint?.state;

  // V1 link (state 0 must have exactly the genesis form).
  if (prev === undefined) {
    const form =
      state.identity.equals(identity) &&
      state.n === 0 &&
      state.prev === null &&
      state.op.kind === 'genesis' &&
      state.op.genesis.equals(identity) &&
      Object.keys(state.balances).length === 0 &&
      bytesEqual(state.entropy, genesisEntropy(identity));
    if (!form)
      fail(
        'V1',
        'E_LINK',
        'state 0 must be the genesis state of this identity (n 0, prev null, op genesis, entropy₀, no balances)',
        state,
      );
  } else {
    if (!state.identity.equals(identity)) fail('V1', 'E_LINK', 'state belongs to another identity', state);
    if (state.n !== prev.n + 1)
      fail('V1', 'E_LINK', `n must be ${prev.n + 1}`, state, { expected: prev.n + 1 });
    if (state.prev === null || !state.prev.equals(checkpoint!.stateId)) {
      fail('V1', 'E_LINK', 'prev must be the id of the previous state', state, {
        expected: checkpoint!.stateId.toString(),
      });
    }
    // V2 entropy
    if (!bytesEqual(state.entropy, nextEntropy(prev.entropy, state.op, state.n))) {
      fail(
        'V2',
        'E_ENTROPY',
        'entropy does not follow from the previous entropy, the operation and n',
        state,
      );
    }
  }

  // V3 signature under the genesis key.
  if (!(await prepared.signature)) {
    fail('V3', 'E_SIGNATURE', `signature does not verify under the identity's ${genesis.suite} key`, state);
  }

  // V4 clock
  if (prev !== undefined && state.t < prev.t) {
    fail('V4', 'E_CLOCK', `t ${state.t} is earlier than the previous state's ${prev.t}`, state);
  }
  if (options.now !== undefined) {
    const skew = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    if (Math.abs(state.t - options.now) > skew) {
      fail('V4', 'E_CLOCK', `t ${state.t} is more than ${skew} ms from this node's clock`, state, {
        now: options.now,
      });
    }
  }

  if (prev === undefined) {
    await checkFork(world, identity, state, stateId);
    return { signed, stateId };
  }

  const op = state.op;
  if (op.kind === 'genesis')
    fail('preconditions', 'E_OPERATION', 'a genesis operation is only allowed at n 0', state);

  // Resolution of the token and its policy.
  const tokenText = op.token.toString();
  const createdHere = checkpoint!.issued.has(tokenText);
  const token = await world.tokenDefinition(op.token);
  if (token === undefined) {
    fail('resolution', 'E_UNKNOWN_TOKEN', `token ${tokenText} has no known definition`, state, {
      token: tokenText,
    });
  }
  const creation = createdHere ? undefined : await world.tokenCreation(op.token);
  if (op.kind !== 'token.create' && !createdHere && creation === undefined) {
    fail('resolution', 'E_UNKNOWN_TOKEN', `token ${tokenText} has not been created`, state, {
      token: tokenText,
    });
  }
  const policy = await world.policy(token.policy);
  if (policy === undefined) {
    fail(
      'resolution',
      'E_POLICY_UNAVAILABLE',
      `policy ${token.policy.toString()} of token ${tokenText} is not available`,
      state,
      {
        policy: token.policy.toString(),
      },
    );
  }
  let valid: ValidPolicy;
  try {
    valid = world.validPolicy ? world.validPolicy(token.policy, policy) : validatePolicy(policy);
  } catch (e) {
    if (isDsmError(e))
      throw new DsmError(e.code, e.message, { rule: 'resolution', n: state.n, ...e.details });
    throw e;
  }

  // Operation preconditions (§5).
  const isIssuer = state.identity.equals(token.issuer);
  let received: string | undefined;
  switch (op.kind) {
    case 'token.create':
      if (!isIssuer)
        fail('preconditions', 'E_OPERATION', "token.create must be in the issuer's chain", state);
      // Re-verifying a stored chain finds its own create: only another create state makes this a second one.
      if (createdHere || (creation !== undefined && !creation.equals(stateId))) {
        fail('preconditions', 'E_OPERATION', `token ${tokenText} has already been created`, state, {
          token: tokenText,
        });
      }
      break;
    case 'token.mint':
      if (!isIssuer) fail('preconditions', 'E_OPERATION', "token.mint must be in the issuer's chain", state);
      break;
    case 'token.receive': {
      received = op.transfer.toString();
      const transfer = await world.acceptedState(op.transfer);
      if (
        transfer === undefined ||
        transfer.op.kind !== 'token.transfer' ||
        !transfer.identity.equals(op.from)
      ) {
        fail(
          'preconditions',
          'E_RECEIVE',
          `no accepted transfer ${received} from ${op.from.toString()}`,
          state,
          {
            transfer: received,
            known: transfer !== undefined,
          },
        );
      }
      if (await world.isForked(op.from)) {
        fail('preconditions', 'E_FORK', `sender ${op.from.toString()} is forked`, state, {
          identity: op.from.toString(),
        });
      }
      const sent = transfer.op as TransferOp;
      if (!sent.to.equals(identity) || !sent.token.equals(op.token) || sent.amount !== op.amount) {
        fail(
          'preconditions',
          'E_RECEIVE',
          "the transfer's recipient, token or amount differ from this receive",
          state,
          {
            transfer: received,
          },
        );
      }
      if (checkpoint!.received.has(received)) {
        fail(
          'preconditions',
          'E_DUPLICATE_RECEIVE',
          `transfer ${received} has already been received`,
          state,
          {
            transfer: received,
          },
        );
      }
      break;
    }
    default:
      break;
  }

  // V5 balances
  const initialSupply = BigInt(token.initialSupply);
  const applied = applyEffect(prev.balances, tokenText, effectOf(op, initialSupply));
  if (!applied.ok) {
    fail('V5', 'E_BALANCE', `${op.kind} would make the balance of ${tokenText} negative`, state, {
      token: tokenText,
    });
  }
  if (!balancesEqual(applied.balances, state.balances)) {
    fail(
      'V5',
      'E_BALANCE',
      'balances are not the previous balances with exactly the effect of the operation',
      state,
    );
  }

  // V6 policy
  const issuedBefore = checkpoint!.issued.get(tokenText) ?? 0n;
  try {
    enforcePolicy(valid, {
      tokenId: op.token,
      token,
      signed,
      stateId,
      previous: prev,
      issuedBefore,
      verify: backend.verify,
    });
  } catch (e) {
    if (isDsmError(e)) throw new DsmError(e.code, e.message, { rule: 'V6', ...e.details });
    throw e;
  }

  // V7 fork
  await checkFork(world, identity, state, stateId);

  const issued =
    op.kind === 'token.create'
      ? { token: tokenText, supply: initialSupply }
      : op.kind === 'token.mint'
        ? { token: tokenText, supply: issuedBefore + BigInt(op.amount) }
        : undefined;
  return { signed, stateId, ...(received !== undefined ? { received } : {}), ...(issued ? { issued } : {}) };
}

async function checkFork(world: World, identity: CID, state: State, stateId: CID): Promise<void> {
  if (await world.isForked(identity)) {
    fail('V7', 'E_FORK', `identity ${identity.toString()} is forked; no later state is accepted`, state, {
      identity: identity.toString(),
    });
  }
  const existing = await world.conflictingState(identity, state.n, stateId);
  if (existing !== undefined) {
    fail('V7', 'E_FORK', `another state at n ${state.n} is already known: this is a fork`, state, {
      identity: identity.toString(),
      existing: existing.toString(),
      candidate: stateId.toString(),
    });
  }
}

/** Decodes a state and starts checking its signature under the genesis key (V3), without waiting for it. */
export function prepare(
  input: Uint8Array | SignedState,
  genesis: Genesis,
  backend: SignatureBackend,
): PreparedState {
  const { signed, stateId } = asSignedState(input);
  const signature = verifySignature(
    backend,
    genesis.suite,
    genesis.publicKey,
    stateId.bytes,
    signed.sig,
    STATE_CONTEXT,
  );
  return { signed, stateId, signature };
}

/** The checkpoint after `accepted`. Copies the sets; chain verification uses a mutable cursor instead. */
export function advance(checkpoint: Checkpoint | null, accepted: Accepted): Checkpoint {
  const received = new Set(checkpoint?.received ?? []);
  const issued = new Map(checkpoint?.issued ?? []);
  if (accepted.received !== undefined) received.add(accepted.received);
  if (accepted.issued !== undefined) issued.set(accepted.issued.token, accepted.issued.supply);
  return { state: accepted.signed.state, stateId: accepted.stateId, received, issued };
}

export interface ChainFailure {
  /** Position in the input list. */
  index: number;
  n: number | undefined;
  rule: Rule;
  error: DsmError;
}

export interface ChainResult {
  /** States accepted in this run. */
  verified: number;
  /** The last good checkpoint (null when not even state 0 was accepted). */
  checkpoint: Checkpoint | null;
  failure?: ChainFailure;
}

export interface ChainToVerify {
  genesis: Genesis;
  /** Resume from here; omit to start at state 0. */
  checkpoint?: Checkpoint | null;
  /** Signed states in order, as bytes (strictly decoded) or already decoded. */
  states: Iterable<Uint8Array | SignedState> | AsyncIterable<Uint8Array | SignedState>;
  world: World;
  backend: SignatureBackend;
  options?: VerifyOptions;
  /** Called after each accepted state (progress bars). */
  onProgress?: (verified: number) => void;
}

/**
 * Verifies a chain (or a segment after a trusted checkpoint) and reports the first failing state and rule.
 * Transfers accepted earlier in the same run resolve receives (self-transfers) without the world.
 *
 * Pipelined: up to WINDOW states ahead of the checks are read from `states`, decoded, hashed and have their
 * signature checks (V3) issued at once (on the libuv thread pool with node:crypto, every core), while the
 * checks of §4 run state by state in their normative order; a state's V3 result is awaited at its own V3 step.
 * States after the first failure are never checked, so they cannot change the outcome.
 */
export async function verifyChain(input: ChainToVerify): Promise<ChainResult> {
  const identity = idOf(input.genesis);
  let checkpoint: Checkpoint | null = input.checkpoint ?? null;
  const received = new Set(checkpoint?.received ?? []);
  const issued = new Map(checkpoint?.issued ?? []);
  const transfers = new CidMap<State>();
  const created = new Map<string, CID>();
  const base = input.world;
  // Re-verifying an accepted chain: its states up to the fork were accepted before the fork existed;
  // only those above it are "later states of a forked identity" (§4 V7).
  const forkedAt = (await base.isForked(identity)) ? await base.forkHeight?.(identity) : undefined;
  let current = 0;
  const world = overlayWorld(base, {
    tokenCreation: (id) => created.get(id.toString()) ?? base.tokenCreation(id),
    acceptedState: (id) => transfers.get(id) ?? base.acceptedState(id),
    isForked: (id) =>
      id.equals(identity) ? forkedAt !== undefined && current > forkedAt : base.isForked(id),
  });
  const ahead = new Lookahead(input.states, input.genesis, input.backend, identity);
  let verified = 0;
  let index = 0;
  let threw = true;
  try {
    for (;;) {
      const item = ahead.take();
      if (item === undefined) {
        if (ahead.ended) break;
        await ahead.more();
        continue;
      }
      if ('thrown' in item) throw item.thrown;
      let accepted: Accepted;
      try {
        if (item instanceof DsmError) throw item;
        current = item.signed.state.n;
        accepted = await verifyState({
          genesis: input.genesis,
          identity,
          checkpoint,
          signed: item,
          world,
          backend: input.backend,
          options: input.options,
        });
      } catch (e) {
        if (!isDsmError(e)) throw e;
        const n = typeof e.details.n === 'number' ? e.details.n : undefined;
        threw = false;
        return {
          verified,
          checkpoint,
          failure: { index, n, rule: (e.details.rule as Rule) ?? 'decode', error: e },
        };
      }
      if (accepted.received !== undefined) received.add(accepted.received);
      if (accepted.issued !== undefined) issued.set(accepted.issued.token, accepted.issued.supply);
      const state = accepted.signed.state;
      if (state.op.kind === 'token.transfer') transfers.set(accepted.stateId, state);
      if (state.op.kind === 'token.create') created.set(state.op.token.toString(), accepted.stateId);
      checkpoint = { state, stateId: accepted.stateId, received, issued };
      verified++;
      index++;
      input.onProgress?.(verified);
    }
    threw = false;
  } finally {
    // As `for await` does: an error closing the source is reported unless another is already under way.
    if (threw) await ahead.close().catch(() => undefined);
    else await ahead.close();
  }
  // Hand back a checkpoint that later runs cannot mutate through our working sets.
  return {
    verified,
    checkpoint: checkpoint && { ...checkpoint, received: new Set(received), issued: new Map(issued) },
  };
}

/**
 * How many states chain verification keeps read, decoded and with their signature checks in flight ahead of
 * the ordered checks: enough to keep every thread of the pool busy, bounded so that a chain of millions of
 * states never holds more than this many decoded states and pending checks.
 */
const WINDOW = 2048;
/** Reading resumes once the checks have drained the window to this many states. */
const REFILL_AT = WINDOW / 2;
/**
 * States read between two turns of the event loop. The turn delivers the finished signature checks, so the
 * ordered checks keep pace with them instead of all running after the last one (on one core, with the pool
 * idle).
 */
const READ_BATCH = 64;

/** A state ahead of the checks: prepared, its decode failure, or what reading or preparing it threw. */
type Ahead = PreparedState | DsmError | { readonly thrown: unknown };

/**
 * The read side of the pipeline: pulls states from the source, decodes and hashes them and starts their
 * signature checks, in input order, at most WINDOW ahead of `take`. A synchronous source is read in batches
 * without yielding; an asynchronous one (a fetch) is read while the checks run. An error the source throws
 * takes the place of the state it failed to produce, so it surfaces only after every earlier state is checked.
 */
class Lookahead {
  private readonly iterator: Iterator<Uint8Array | SignedState> | AsyncIterator<Uint8Array | SignedState>;
  private readonly async: boolean;
  private items: (Ahead | undefined)[] = [];
  private head = 0;
  private reading = true;
  /** An asynchronous `next()` of the source is under way. */
  private pulling = false;
  private closed = false;
  private wakeReader: (() => void) | undefined;
  private wakeChecks: (() => void) | undefined;
  private readonly cids = new CidInterner();

  constructor(
    states: Iterable<Uint8Array | SignedState> | AsyncIterable<Uint8Array | SignedState>,
    private readonly genesis: Genesis,
    private readonly backend: SignatureBackend,
    private readonly identity: CID,
  ) {
    this.async = Symbol.asyncIterator in states;
    this.iterator =
      Symbol.asyncIterator in states ? states[Symbol.asyncIterator]() : states[Symbol.iterator]();
    void this.read();
  }

  /** True once the source is exhausted and every state read has been taken. */
  get ended(): boolean {
    return !this.reading && this.head === this.items.length;
  }

  /** The next state in input order, or undefined when none is ready yet (see `more`) or none is left. */
  take(): Ahead | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= REFILL_AT && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.wakeReader !== undefined && this.items.length - this.head <= REFILL_AT) {
      const wake = this.wakeReader;
      this.wakeReader = undefined;
      wake();
    }
    return item;
  }

  /** Resolves when another state is ready or the source has ended. */
  more(): Promise<void> {
    return new Promise((resolve) => (this.wakeChecks = resolve));
  }

  /**
   * Stops reading and closes the source when it was not read to its end, as `for await` does when a loop
   * ends early. A source in the middle of an asynchronous `next()` is closed once that settles, without
   * holding up the result.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeReader?.();
    this.wakeReader = undefined;
    if (this.reading && !this.pulling) {
      this.reading = false;
      await this.iterator.return?.();
    }
  }

  private async read(): Promise<void> {
    let batch = 0;
    try {
      while (!this.closed) {
        if (this.items.length - this.head >= WINDOW) {
          await new Promise<void>((resolve) => (this.wakeReader = resolve));
          continue;
        }
        if (++batch > READ_BATCH) {
          batch = 0;
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        let result: IteratorResult<Uint8Array | SignedState>;
        if (this.async) {
          this.pulling = true;
          try {
            result = await this.iterator.next();
          } finally {
            this.pulling = false;
          }
          if (this.closed) {
            if (result.done !== true) await this.iterator.return?.();
            break;
          }
        } else result = this.iterator.next() as IteratorResult<Uint8Array | SignedState>;
        if (result.done === true) break;
        this.push(this.prepare(result.value));
      }
    } catch (e) {
      if (!this.closed) this.push({ thrown: e });
    }
    this.reading = false;
    this.wakeChecks?.();
    this.wakeChecks = undefined;
  }

  private prepare(input: Uint8Array | SignedState): Ahead {
    try {
      const prepared = prepare(input, this.genesis, this.backend);
      // Only states decoded here are ours to touch: a caller's objects are left as they are.
      if (input instanceof Uint8Array) this.intern(prepared.signed.state);
      return prepared;
    } catch (e) {
      return isDsmError(e) ? e : { thrown: e };
    }
  }

  /**
   * Replaces the chain's identity and the ids an operation names with equal CIDs seen before. A CID caches
   * its text form, which the checks, the policy conditions and the worlds use as map keys; base32-encoding
   * the same few ids afresh for every decoded state costs about 5 µs each.
   */
  private intern(state: State): void {
    if (state.identity.equals(this.identity)) state.identity = this.identity;
    const op = state.op;
    if (op.kind === 'genesis') return;
    op.token = this.cids.of(op.token);
    if (op.kind === 'token.transfer') op.to = this.cids.of(op.to);
    else if (op.kind === 'token.receive') op.from = this.cids.of(op.from);
  }

  private push(item: Ahead): void {
    this.items.push(item);
    const wake = this.wakeChecks;
    this.wakeChecks = undefined;
    wake?.();
  }
}

/** A small int key for a CID: the last four bytes of its digest. Equal CIDs have equal keys. */
function cidKey(cid: CID): number {
  const b = cid.bytes;
  const at = b.length - 4;
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** One object per distinct CID among the recent ones (by digest key, confirmed with `equals`). */
class CidInterner {
  private readonly known = new Map<number, CID>();

  of(cid: CID): CID {
    const key = cidKey(cid);
    const known = this.known.get(key);
    if (known !== undefined) return known.equals(cid) ? known : cid;
    if (this.known.size >= WINDOW) this.known.clear();
    this.known.set(key, cid);
    return cid;
  }
}

/** A map keyed by CID without converting each key to text. */
class CidMap<T> {
  private readonly buckets = new Map<number, { id: CID; value: T }[]>();

  get(id: CID): T | undefined {
    return this.buckets.get(cidKey(id))?.find((e) => e.id.equals(id))?.value;
  }

  set(id: CID, value: T): void {
    const key = cidKey(id);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, [{ id, value }]);
    else {
      const entry = bucket.find((e) => e.id.equals(id));
      if (entry !== undefined) entry.value = value;
      else bucket.push({ id, value });
    }
  }
}
