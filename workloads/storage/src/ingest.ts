/**
 * Ingest (protocol.md §7): strict decoding, verification on ingest (content by its recomputed id; states
 * with every check of §4 against their stored predecessor, except the clock skew), and the commit of what an
 * accepted object does to the directory. A valid second successor is kept as fork evidence. Ingest is
 * idempotent; each accepted object is one atomic, fsync'd batch, or part of one page of a peer's log.
 */
import { MISSING_DEPENDENCY } from '@dsm/api';
import {
  CID,
  DsmError,
  decodeObject,
  decodeSignedState,
  idOfBytes,
  isDsmError,
  STATE_CONTEXT,
  verifySignature,
  verifyState,
  type DsmObject,
  type Genesis,
  type ObjectType,
  type PreparedState,
  type SignatureBackend,
  type SignedState,
  type World,
} from '@dsm/protocol';
import { KeyedLocks } from '@dsm/runtime';
import { advancesHead, effectsOf, evidenceOf, type Before, type Head } from './effects.js';
import type { Feed } from './feed.js';
import { LOG_EVIDENCE, LOG_OBJECT, logPut, type Journal, type LogEntry } from './journal.js';
import { keys } from './keys.js';
import { LIMITS } from './limits.js';
import type { ForkEvidence, Queries } from './queries.js';
import { checkpointAt, worldAsOf } from './world-view.js';

export interface IngestResult {
  id: CID;
  type: ObjectType;
  /** False when the object was already here (ingest is idempotent). */
  stored: boolean;
  /** Set for signed states. */
  identity?: CID;
  n?: number;
}

export interface IngestOptions {
  backend: SignatureBackend;
  /** Largest object accepted (DAG-CBOR bytes, inclusive). */
  maxObjectBytes: number;
}

/** Told of every accepted object or evidence once it is on disk. */
export interface IngestHooks {
  /**
   * Called after every accepted object or evidence, with its log entry, bytes and, for accepted objects,
   * the decoded object (notifications need not decode it again).
   */
  onAppend?: (entry: LogEntry, bytes: Uint8Array, object?: DsmObject) => void;
  /** Called when an identity becomes forked. */
  onFork?: (evidence: ForkEvidence) => void;
}

/** Errors that mean "something this object depends on is not here (yet)", not "this object is bad". */
export { MISSING_DEPENDENCY };

export type Decoded =
  | { kind: 'state'; signed: SignedState; stateId: CID }
  | { kind: 'content'; object: Exclude<DsmObject, SignedState>; id: CID };

/** How many signature checks of a page run ahead of the state being ingested. */
const SIGNATURE_WINDOW = 64;

/** Strict decoding, once: a signed state with its state id, or one of the content objects with its id. */
export function decodeIncoming(bytes: Uint8Array, max: number): Decoded {
  if (bytes.length > max) {
    throw new DsmError('E_DECODE', `object is ${bytes.length} bytes, over the limit of ${max}`, {
      field: '$',
      size: bytes.length,
      limit: max,
    });
  }
  try {
    return { kind: 'state', ...decodeSignedState(bytes, max) };
  } catch (e) {
    if (!isDsmError(e, 'E_DECODE') || e.details.field !== 'type') throw e;
  }
  const object = decodeObject(bytes, max);
  if (object.type === 'dsm/signed-state@1')
    throw new DsmError('E_INTERNAL', 'signed state decoded as content');
  return { kind: 'content', object, id: idOfBytes(bytes) };
}

/** Rejections caused by something absent (not by the object itself) carry details.missing. */
export function markMissing(e: unknown): unknown {
  if (!isDsmError(e)) return e;
  const missing =
    e.code === 'E_UNKNOWN_TOKEN' ||
    e.code === 'E_POLICY_UNAVAILABLE' ||
    (e.code === 'E_RECEIVE' && e.details.known === false);
  return missing ? new DsmError(e.code, e.message, { ...e.details, [MISSING_DEPENDENCY]: true }) : e;
}

export class Ingest {
  private readonly locks = new KeyedLocks();

  constructor(
    private readonly journal: Journal,
    private readonly queries: Queries,
    private readonly world: World,
    private readonly feed: Feed,
    private readonly options: IngestOptions,
    private readonly hooks: IngestHooks = {},
  ) {}

  /** Verifies and stores one object (DAG-CBOR bytes), durably. Idempotent. Throws DsmError on rejection. */
  one(bytes: Uint8Array): Promise<IngestResult> {
    return this.journal.shared(async () => {
      const decoded = decodeIncoming(bytes, this.options.maxObjectBytes);
      if (decoded.kind === 'content') return this.content(bytes, decoded.object, decoded.id);
      const prepared = { ...decoded, signature: this.verifySig(decoded.signed, decoded.stateId) };
      return this.stateLocked(bytes, prepared);
    });
  }

  /**
   * Ingests objects in order (catch-up from a peer): later objects see earlier ones, signature checks run a
   * window ahead on the thread pool. Chunks of LIMITS.ingestChunk objects are each one durable batch (one
   * fsync) applied alone, so client writes wait for one chunk at most, however large the peer's page.
   * Returns, per object, its result or the DsmError that rejected it.
   */
  async many(list: Uint8Array[]): Promise<(IngestResult | DsmError)[]> {
    const results: (IngestResult | DsmError)[] = [];
    for (let at = 0; at < list.length; at += LIMITS.ingestChunk)
      results.push(...(await this.chunk(list.slice(at, at + LIMITS.ingestChunk))));
    return results;
  }

  private chunk(list: Uint8Array[]): Promise<(IngestResult | DsmError)[]> {
    return this.journal.inPage(
      async () => {
        const decoded = list.map((bytes) => {
          try {
            return decodeIncoming(bytes, this.options.maxObjectBytes);
          } catch (e) {
            if (isDsmError(e)) return e;
            throw e;
          }
        });
        // One MultiGet tells which objects are already here, instead of one read per object.
        await this.journal.preload(
          decoded.flatMap((d) =>
            d instanceof DsmError ? [] : [keys.object(d.kind === 'state' ? d.stateId : d.id)],
          ),
        );
        const geneses = new Map<string, Genesis>();
        for (const d of decoded)
          if (!(d instanceof DsmError) && d.kind === 'content' && d.object.type === 'dsm/genesis@1')
            geneses.set(d.id.toString(), d.object);
        const signatures: (Promise<boolean> | undefined)[] = [];
        const start = async (i: number): Promise<boolean> => {
          const d = decoded[i]!;
          if (d instanceof DsmError || d.kind !== 'state') return false;
          const genesis =
            geneses.get(d.signed.state.identity.toString()) ??
            (await this.queries.genesis(d.signed.state.identity));
          if (genesis === undefined) return false;
          return verifySignature(
            this.options.backend,
            genesis.suite,
            genesis.publicKey,
            d.stateId.bytes,
            d.signed.sig,
            STATE_CONTEXT,
          );
        };
        const results: (IngestResult | DsmError)[] = [];
        for (const [i, d] of decoded.entries()) {
          // Keep a window of signature checks running ahead; a larger one would queue the store's reads
          // behind verifications on the shared thread pool.
          for (let j = i; j < Math.min(decoded.length, i + SIGNATURE_WINDOW); j++) signatures[j] ??= start(j);
          if (d instanceof DsmError) {
            results.push(d);
            continue;
          }
          const work =
            d.kind === 'content'
              ? this.content(list[i]!, d.object, d.id)
              : this.state(list[i]!, { ...d, signature: signatures[i]! });
          results.push(
            await work.catch((e: unknown) => {
              if (isDsmError(e)) return e;
              throw e;
            }),
          );
        }
        return results;
      },
      async () => {
        this.queries.dropCaches();
        await this.queries.reloadForks();
      },
    );
  }

  private content(
    bytes: Uint8Array,
    object: Exclude<DsmObject, SignedState>,
    id: CID,
  ): Promise<IngestResult> {
    return this.locks.run(`object:${id.toString()}`, async () => {
      if ((await this.journal.read(keys.object(id))) !== null)
        return { id, type: object.type, stored: false };
      await this.journal.commit(
        (seq) => [[keys.object(id), bytes], logPut(seq, LOG_OBJECT, id)],
        () => this.queries.rememberContent(id, object),
        (seq) => this.stored(id, object, bytes, { seq, kind: LOG_OBJECT, id }),
      );
      return { id, type: object.type, stored: true };
    });
  }

  private stateLocked(bytes: Uint8Array, prepared: PreparedState): Promise<IngestResult> {
    return this.locks.run(`identity:${prepared.signed.state.identity.toString()}`, () =>
      this.state(bytes, prepared),
    );
  }

  /** Starts the V3 check of a state whose genesis may not be known yet (then it resolves false, unused). */
  private async verifySig(signed: SignedState, stateId: CID): Promise<boolean> {
    const genesis = await this.queries.genesis(signed.state.identity);
    if (genesis === undefined) return false;
    return verifySignature(
      this.options.backend,
      genesis.suite,
      genesis.publicKey,
      stateId.bytes,
      signed.sig,
      STATE_CONTEXT,
    );
  }

  private async state(bytes: Uint8Array, prepared: PreparedState): Promise<IngestResult> {
    const { signed, stateId } = prepared;
    const state = signed.state;
    const identity = state.identity;
    const result: IngestResult = {
      id: stateId,
      type: 'dsm/signed-state@1',
      stored: false,
      identity,
      n: state.n,
    };
    if ((await this.journal.read(keys.object(stateId))) !== null) return result;
    if (this.queries.isEvidence(stateId)) {
      throw new DsmError('E_FORK', 'this state is already kept as fork evidence', {
        identity: identity.toString(),
        n: state.n,
      });
    }
    const genesis = await this.queries.genesis(identity);
    if (genesis === undefined) {
      throw new DsmError('E_LINK', `unknown genesis ${identity.toString()}: store it first`, {
        identity: identity.toString(),
        n: state.n,
        [MISSING_DEPENDENCY]: true,
      });
    }
    const head = await this.queries.head(identity);
    let parent: Head | null;
    if (state.n === 0) parent = null;
    else if (head !== null && state.n === head.n + 1) parent = head;
    else if (head !== null && state.n <= head.n)
      parent = await this.queries
        .stateIdAt(identity, state.n - 1)
        .then((id) => (id ? { stateId: id, n: state.n - 1 } : null));
    else {
      throw new DsmError(
        'E_LINK',
        `state ${state.n} does not extend the head (${head === null ? 'no state yet' : head.n})`,
        {
          identity: identity.toString(),
          n: state.n,
          head: head?.n ?? null,
          [MISSING_DEPENDENCY]: true,
        },
      );
    }
    const checkpoint = parent && (await checkpointAt(this.queries, identity, parent, state));
    const op = state.op;
    const supplyToken =
      op.kind === 'token.create' || op.kind === 'token.mint' || op.kind === 'token.burn'
        ? op.token
        : undefined;
    const work = async (): Promise<IngestResult> => {
      try {
        await verifyState({
          genesis,
          identity,
          checkpoint,
          signed: prepared,
          world:
            parent !== null && head !== null && parent.n < head.n
              ? worldAsOf(this.world, this.queries, identity, parent.n)
              : this.world,
          backend: this.options.backend,
        });
      } catch (e) {
        if (isDsmError(e, 'E_FORK') && typeof e.details.existing === 'string')
          await this.keepEvidence(identity, state.n, CID.parse(e.details.existing), stateId, bytes);
        throw markMissing(e);
      }
      // Everything that needs a read happens before the seq is taken; building the batch is synchronous.
      const before: Before = { head };
      if (op.kind === 'token.create') before.token = await this.world.tokenDefinition(op.token);
      else if (op.kind === 'token.mint' || op.kind === 'token.burn')
        before.supply = await this.queries.supply(op.token);
      await this.journal.commit(
        (seq) => [
          [keys.object(stateId), bytes],
          logPut(seq, LOG_OBJECT, stateId),
          ...effectsOf(state, stateId, before, seq),
        ],
        () => {
          if (advancesHead(state.n, head))
            this.queries.rememberHead(identity, { stateId, n: state.n }, state);
          if (op.kind === 'token.create')
            this.queries.rememberCreation(op.token, { stateId, identity, n: state.n });
        },
        (seq) => this.stored(stateId, signed, bytes, { seq, kind: LOG_OBJECT, id: stateId }),
      );
      return { ...result, stored: true };
    };
    // Burns by different holders of one token update the same supply record.
    return supplyToken ? this.locks.run(`supply:${supplyToken.toString()}`, work) : work();
  }

  /** Keeps a valid second successor as evidence and marks the identity forked (§4 V7). */
  private async keepEvidence(
    identity: CID,
    n: number,
    existing: CID,
    candidate: CID,
    bytes: Uint8Array,
  ): Promise<void> {
    const already = this.queries.isForked(identity);
    const evidence: ForkEvidence = { identity, n, existing, candidate, candidateBytes: bytes };
    await this.journal.commit(
      (seq) => [...evidenceOf(identity, n, existing, candidate, bytes), logPut(seq, LOG_EVIDENCE, candidate)],
      () => this.queries.rememberFork(identity, candidate),
      (seq) => {
        this.feed.noteEvidence(candidate, !already);
        if (!already) this.hooks.onFork?.(evidence);
        this.hooks.onAppend?.({ seq, kind: LOG_EVIDENCE, id: candidate }, bytes);
      },
    );
  }

  private stored(id: CID, object: DsmObject, bytes: Uint8Array, entry: LogEntry): void {
    this.feed.noteObject(id, object.type, bytes);
    this.hooks.onAppend?.(entry, bytes, object);
  }
}
