/**
 * The directory of protocol.md §7 on RocksDB: content by id, verified on ingest (states against their stored
 * predecessor with every check of §4 except the clock skew), chain heads, inboxes, supply records, fork
 * evidence, and a local log of everything in ingest order for replication. Everything only grows.
 * Each accepted object is written in one atomic, fsync'd batch.
 */
import * as dagCbor from '@ipld/dag-cbor';
import {
  CID,
  DsmError,
  decodeObject,
  decodeSignedState,
  idFromBytes,
  idOfBytes,
  isDsmError,
  STATE_CONTEXT,
  toHex,
  validatePolicy,
  verifySignature,
  verifyState,
  type Checkpoint,
  type DsmObject,
  type Genesis,
  type ObjectType,
  type Policy,
  type PreparedState,
  type SignatureBackend,
  type SignedState,
  type State,
  type TokenDefinition,
  type ValidPolicy,
  type World,
} from '@dsm/protocol';
import { BoundedMap, KeyedLocks, readU64be, u64be, type Store, type WriteBatch } from '@dsm/runtime';
import { SetDigest } from './digest.js';
import { Gate } from './gate.js';
import { keys } from './keys.js';
import { LIMITS } from './limits.js';

export interface IngestResult {
  id: CID;
  type: ObjectType;
  /** False when the object was already here (ingest is idempotent). */
  stored: boolean;
  /** Set for signed states. */
  identity?: CID;
  n?: number;
}

export interface Head {
  stateId: CID;
  n: number;
}

export interface InboxEntry {
  transfer: CID;
  seq: bigint;
  from: CID;
  token: CID;
  amount: string;
  memo?: string;
  /** The receive state that took it, once accepted. */
  receivedBy?: CID;
}

export interface Supply {
  issued: string;
  burned: string;
}

export interface ForkEvidence {
  identity: CID;
  n: number;
  existing: CID;
  candidate: CID;
  /** The conflicting signed state as received. */
  candidateBytes: Uint8Array;
}

export interface LogEntry {
  seq: bigint;
  /** 0: an accepted object; 1: a fork candidate kept as evidence. */
  kind: 0 | 1;
  id: CID;
}

export interface DirectoryStats {
  objects: number;
  bytes: number;
  byType: Record<string, number>;
  forks: number;
  lastSeq: bigint;
}

export interface DirectoryOptions {
  backend: SignatureBackend;
  /** Largest object accepted (DAG-CBOR bytes, inclusive). */
  maxObjectBytes: number;
}

const LOG_OBJECT = 0;
const LOG_EVIDENCE = 1;
/** Errors that mean "something this object depends on is not here (yet)", not "this object is bad". */
export const MISSING_DEPENDENCY = 'missing';

/** Writes of a replication page: applied in one durable batch, visible to the page's own reads first. */
class Page {
  readonly pending = new Map<string, Uint8Array>();
  /** Object keys (hex) known absent from disk when the page started: no need to ask the store again. */
  readonly absent = new Set<string>();
  readonly after: (() => void)[] = [];
  readonly seqs: bigint[] = [];
  constructor(readonly batch: WriteBatch) {}
}

type Put = [key: Buffer, value: Uint8Array];

type Decoded =
  | { kind: 'state'; signed: SignedState; stateId: CID }
  | { kind: 'content'; object: Exclude<DsmObject, SignedState>; id: CID };

/** How many signature checks of a page run ahead of the state being ingested. */
const SIGNATURE_WINDOW = 64;

export class Directory {
  private readonly locks = new KeyedLocks();
  private readonly gate = new Gate();
  private page: Page | null = null;
  // Hot facts kept in memory, written through on every commit (every write goes through this class):
  // chain heads with their state, token creations (immutable once set), forked identities, evidence ids.
  private readonly heads = new BoundedMap<string, { head: Head; state: State }>(50_000);
  private readonly creations = new BoundedMap<string, { stateId: CID; identity: CID; n: number }>(50_000);
  private readonly forkedSet = new Set<string>();
  private readonly evidenceIds = new Set<string>();
  /** Immutable content decoded once (genesis, tokens, policies are small and hot). */
  private readonly content = new BoundedMap<string, DsmObject>(10_000);
  private readonly policies = new Map<string, ValidPolicy>();
  private readonly digest = new SetDigest();
  private readonly counts: Record<string, number> = {};
  private totalBytes = 0;
  private forkCount = 0;
  private nextSeq = 1n;
  private readonly inflight = new Set<bigint>();
  /** Called after every accepted object or evidence, with its log entry (notifications). */
  onAppend?: (entry: LogEntry, bytes: Uint8Array) => void;
  /** Called when an identity becomes forked. */
  onFork?: (evidence: ForkEvidence) => void;

  private constructor(
    readonly store: Store,
    private readonly options: DirectoryOptions,
  ) {}

  /** Opens the directory and rebuilds the in-memory digest and counters from what is on disk. */
  static async open(store: Store, options: DirectoryOptions): Promise<Directory> {
    const directory = new Directory(store, options);
    for await (const { key, value } of store.prefix(keys.objectPrefix())) {
      const id = idFromBytes(key.subarray(keys.objectPrefix().length));
      directory.digest.add(id);
      directory.totalBytes += value.length;
      const type = typeOfBytes(value);
      directory.counts[type] = (directory.counts[type] ?? 0) + 1;
    }
    for await (const { key } of store.prefix(keys.forkedPrefix())) {
      directory.forkedSet.add(idFromBytes(key.subarray(keys.forkedPrefix().length)).toString());
      directory.forkCount++;
    }
    for await (const { key } of store.prefix(Buffer.from('evidence\0'))) {
      const id = idFromBytes(key.subarray(key.length - 36));
      directory.digest.add(id);
      directory.evidenceIds.add(id.toString());
    }
    for await (const { key } of store.prefix(keys.logPrefix(), { reverse: true, limit: 1 })) {
      directory.nextSeq = readU64be(key, keys.logPrefix().length) + 1n;
    }
    return directory;
  }

  // ---------------------------------------------------------------------------------------------
  // Ingest

  /** Verifies and stores one object (DAG-CBOR bytes), durably. Idempotent. Throws DsmError on rejection. */
  ingest(bytes: Uint8Array): Promise<IngestResult> {
    return this.gate.shared(async () => {
      const decoded = this.decode(bytes);
      if (decoded.kind === 'content') return this.ingestContent(bytes, decoded.object, decoded.id);
      const prepared = { ...decoded, signature: this.verifySig(decoded.signed, decoded.stateId) };
      return this.ingestStateLocked(bytes, prepared);
    });
  }

  /**
   * Ingests objects in order (catch-up from a peer): later objects see earlier ones, signature checks run a
   * window ahead on the thread pool. Chunks of LIMITS.ingestChunk objects are each one durable batch (one
   * fsync) applied alone, so client writes wait for one chunk at most, however large the peer's page.
   * Returns, per object, its result or the DsmError that rejected it.
   */
  async ingestMany(list: Uint8Array[]): Promise<(IngestResult | DsmError)[]> {
    const results: (IngestResult | DsmError)[] = [];
    for (let at = 0; at < list.length; at += LIMITS.ingestChunk)
      results.push(...(await this.ingestChunk(list.slice(at, at + LIMITS.ingestChunk))));
    return results;
  }

  private ingestChunk(list: Uint8Array[]): Promise<(IngestResult | DsmError)[]> {
    return this.gate.exclusively(async () => {
      const page = new Page(this.store.batch());
      this.page = page;
      try {
        const decoded = list.map((bytes) => {
          try {
            return this.decode(bytes);
          } catch (e) {
            if (isDsmError(e)) return e;
            throw e;
          }
        });
        // One MultiGet tells which objects are already here, instead of one read per object.
        const objectKeys = decoded.map((d) =>
          d instanceof DsmError ? undefined : keys.object(d.kind === 'state' ? d.stateId : d.id),
        );
        const present = await this.store.getMany(objectKeys.filter((k): k is Buffer => k !== undefined));
        let at = 0;
        for (const key of objectKeys)
          if (key !== undefined && present[at++] === null) page.absent.add(toHex(key));
        const geneses = new Map<string, Genesis>();
        for (const d of decoded)
          if (!(d instanceof DsmError) && d.kind === 'content' && d.object.type === 'dsm/genesis@1')
            geneses.set(d.id.toString(), d.object);
        const signatures: (Promise<boolean> | undefined)[] = [];
        const start = async (i: number): Promise<boolean> => {
          const d = decoded[i]!;
          if (d instanceof DsmError || d.kind !== 'state') return false;
          const genesis =
            geneses.get(d.signed.state.identity.toString()) ?? (await this.genesis(d.signed.state.identity));
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
              ? this.ingestContent(list[i]!, d.object, d.id)
              : this.ingestState(list[i]!, { ...d, signature: signatures[i]! });
          results.push(
            await work.catch((e: unknown) => {
              if (isDsmError(e)) return e;
              throw e;
            }),
          );
        }
        await page.batch.write({ sync: true });
        for (const effect of page.after) effect();
        return results;
      } catch (e) {
        this.dropCaches();
        await this.reloadForks();
        throw e;
      } finally {
        for (const seq of page.seqs) this.inflight.delete(seq);
        this.page = null;
      }
    });
  }

  /** Strict decoding, once: a signed state with its state id, or one of the content objects with its id. */
  private decode(bytes: Uint8Array): Decoded {
    const max = this.options.maxObjectBytes;
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

  private async reloadForks(): Promise<void> {
    this.forkedSet.clear();
    this.evidenceIds.clear();
    for await (const { key } of this.store.prefix(keys.forkedPrefix()))
      this.forkedSet.add(idFromBytes(key.subarray(keys.forkedPrefix().length)).toString());
    for await (const { key } of this.store.prefix(Buffer.from('evidence\0')))
      this.evidenceIds.add(idFromBytes(key.subarray(key.length - 36)).toString());
  }

  private async read(key: Buffer): Promise<Uint8Array | null> {
    if (this.page === null) return this.store.get(key);
    const hex = toHex(key);
    return this.page.pending.get(hex) ?? (this.page.absent.has(hex) ? null : await this.store.get(key));
  }

  /**
   * Takes the next log sequence number, writes `build(seq)` durably (or into the current page), updates the
   * in-memory caches with `cache` as soon as later reads must see the write, and runs `after` once it is on
   * disk. Until then the seq is in flight: the log is served only up to the lowest seq still in flight, so a
   * peer never reads past an entry that may still land.
   */
  private async commit(
    build: (seq: bigint) => Put[],
    cache: () => void,
    after: (seq: bigint) => void,
  ): Promise<void> {
    const seq = this.nextSeq++;
    this.inflight.add(seq);
    const puts = build(seq);
    if (this.page) {
      for (const [key, value] of puts) {
        this.page.pending.set(toHex(key), value);
        this.page.batch.put(key, value);
      }
      cache();
      this.page.seqs.push(seq);
      this.page.after.push(() => after(seq));
      return;
    }
    try {
      const batch = this.store.batch();
      for (const [key, value] of puts) batch.put(key, value);
      await batch.write({ sync: true });
    } finally {
      this.inflight.delete(seq);
    }
    cache();
    after(seq);
  }

  /** Forgets every cache that a failed page may have filled with writes that did not land. */
  private dropCaches(): void {
    this.content.clear();
    this.heads.clear();
    this.creations.clear();
  }

  private ingestContent(
    bytes: Uint8Array,
    object: Exclude<DsmObject, SignedState>,
    id: CID,
  ): Promise<IngestResult> {
    return this.locks.run(`object:${id.toString()}`, async () => {
      if ((await this.read(keys.object(id))) !== null) return { id, type: object.type, stored: false };
      await this.commit(
        (seq) => [
          [keys.object(id), bytes],
          [keys.log(seq), logValue(LOG_OBJECT, id)],
        ],
        () => this.content.set(id.toString(), object),
        (seq) => this.afterStore(id, object.type, bytes, { seq, kind: LOG_OBJECT, id }),
      );
      return { id, type: object.type, stored: true };
    });
  }

  private ingestStateLocked(bytes: Uint8Array, prepared: PreparedState): Promise<IngestResult> {
    return this.locks.run(`identity:${prepared.signed.state.identity.toString()}`, () =>
      this.ingestState(bytes, prepared),
    );
  }

  /** Starts the V3 check of a state whose genesis may not be known yet (then it resolves false, unused). */
  private async verifySig(signed: SignedState, stateId: CID): Promise<boolean> {
    const genesis = await this.genesis(signed.state.identity);
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

  private async ingestState(bytes: Uint8Array, prepared: PreparedState): Promise<IngestResult> {
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
    if ((await this.read(keys.object(stateId))) !== null) return result;
    if (this.evidenceIds.has(stateId.toString())) {
      throw new DsmError('E_FORK', 'this state is already kept as fork evidence', {
        identity: identity.toString(),
        n: state.n,
      });
    }
    const genesis = await this.genesis(identity);
    if (genesis === undefined) {
      throw new DsmError('E_LINK', `unknown genesis ${identity.toString()}: store it first`, {
        identity: identity.toString(),
        n: state.n,
        [MISSING_DEPENDENCY]: true,
      });
    }
    const head = await this.head(identity);
    let parent: Head | null;
    if (state.n === 0) parent = null;
    else if (head !== null && state.n === head.n + 1) parent = head;
    else if (head !== null && state.n <= head.n)
      parent = await this.stateIdAt(identity, state.n - 1).then((id) =>
        id ? { stateId: id, n: state.n - 1 } : null,
      );
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
    const checkpoint = parent && (await this.checkpoint(identity, parent, state));
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
              ? this.worldAsOf(identity, parent.n)
              : this.world,
          backend: this.options.backend,
        });
      } catch (e) {
        if (isDsmError(e, 'E_FORK') && typeof e.details.existing === 'string')
          await this.keepEvidence(identity, state.n, CID.parse(e.details.existing), stateId, bytes);
        throw markMissing(e);
      }
      // Everything that needs a read happens before the seq is taken; building the batch is synchronous.
      const extra: Put[] = [];
      if (op.kind === 'token.create') {
        const token = (await this.world.tokenDefinition(op.token))!;
        extra.push([keys.creation(op.token), stateId.bytes]);
        extra.push([keys.supply(op.token), encodeSupply({ issued: token.initialSupply, burned: '0' })]);
      } else if (op.kind === 'token.mint' || op.kind === 'token.burn') {
        const supply = (await this.supply(op.token)) ?? { issued: '0', burned: '0' };
        const field = op.kind === 'token.mint' ? 'issued' : 'burned';
        extra.push([
          keys.supply(op.token),
          encodeSupply({ ...supply, [field]: (BigInt(supply[field]) + BigInt(op.amount)).toString() }),
        ]);
      } else if (op.kind === 'token.receive') {
        extra.push([keys.received(op.transfer), stateId.bytes]);
      }
      const advancesHead = head === null || state.n > head.n;
      await this.commit(
        (seq) => [
          [keys.object(stateId), bytes],
          [keys.height(identity, state.n), stateId.bytes],
          [keys.log(seq), logValue(LOG_OBJECT, stateId)],
          ...(advancesHead
            ? [[keys.head(identity), Buffer.concat([stateId.bytes, u64be(state.n)])] as Put]
            : []),
          ...(op.kind === 'token.transfer' ? [[keys.inbox(op.to, seq), stateId.bytes] as Put] : []),
          ...extra,
        ],
        () => {
          if (advancesHead) this.heads.set(identity.toString(), { head: { stateId, n: state.n }, state });
          if (op.kind === 'token.create')
            this.creations.set(op.token.toString(), { stateId, identity, n: state.n });
        },
        (seq) =>
          this.afterStore(stateId, 'dsm/signed-state@1', bytes, { seq, kind: LOG_OBJECT, id: stateId }),
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
    const already = this.forkedSet.has(identity.toString());
    const evidence: ForkEvidence = { identity, n, existing, candidate, candidateBytes: bytes };
    await this.commit(
      (seq) => [
        [keys.evidence(identity, candidate), dagCbor.encode({ existing, n, bytes })],
        [keys.forked(identity), existing.bytes],
        [keys.log(seq), logValue(LOG_EVIDENCE, candidate)],
      ],
      () => {
        this.forkedSet.add(identity.toString());
        this.evidenceIds.add(candidate.toString());
      },
      (seq) => {
        this.digest.add(candidate);
        if (!already) {
          this.forkCount++;
          this.onFork?.(evidence);
        }
        this.onAppend?.({ seq, kind: LOG_EVIDENCE, id: candidate }, bytes);
      },
    );
  }

  private afterStore(id: CID, type: ObjectType, bytes: Uint8Array, entry: LogEntry): void {
    this.digest.add(id);
    this.totalBytes += bytes.length;
    this.counts[type] = (this.counts[type] ?? 0) + 1;
    this.onAppend?.(entry, bytes);
  }

  /** The parts of a checkpoint that verifying `state` can look at, read from the directory. */
  private async checkpoint(identity: CID, parent: Head, state: State): Promise<Checkpoint> {
    const cached = this.heads.get(identity.toString());
    const parentState = cached?.head.stateId.equals(parent.stateId)
      ? cached.state
      : (await this.signedState(parent.stateId))!.state;
    const received = new Set<string>();
    const issued = new Map<string, bigint>();
    const op = state.op;
    // Facts as of the parent: a second successor (a fork candidate) must be judged like the first was.
    if (op.kind === 'token.receive') {
      const marker = await this.read(keys.received(op.transfer));
      const by = marker && (await this.signedState(idFromBytes(marker)));
      if (by && by.state.identity.equals(identity) && by.state.n <= parent.n)
        received.add(op.transfer.toString());
    }
    if (op.kind !== 'genesis') {
      const creation = await this.creationRecord(op.token);
      // Tokens this identity created before this state: their issued supply feeds supplyCap.
      if (creation !== undefined && creation.identity.equals(identity) && creation.n <= parent.n) {
        let supply = BigInt((await this.supply(op.token))?.issued ?? '0');
        const head = await this.head(identity);
        for (let n = parent.n + 1; head !== null && n <= head.n; n++) {
          const id = await this.stateIdAt(identity, n);
          const later = id && (await this.signedState(id));
          if (later?.state.op.kind === 'token.mint' && later.state.op.token.equals(op.token))
            supply -= BigInt(later.state.op.amount);
        }
        issued.set(op.token.toString(), supply);
      }
    }
    return { state: parentState, stateId: parent.stateId, received, issued };
  }

  /** The World for a fork candidate: this identity's token creations after `n` did not exist yet. */
  private worldAsOf(identity: CID, n: number): World {
    return Object.create(this.world, {
      tokenCreation: {
        value: async (token: CID) => {
          const creation = await this.creationRecord(token);
          return creation && !(creation.identity.equals(identity) && creation.n > n)
            ? creation.stateId
            : undefined;
        },
      },
    }) as World;
  }

  // ---------------------------------------------------------------------------------------------
  // The World of §4, answered from this directory

  readonly world: World = {
    tokenDefinition: async (token) => this.typed<TokenDefinition>(token, 'dsm/token@1'),
    tokenCreation: (token) => this.creation(token),
    policy: (anchor) => this.typed<Policy>(anchor, 'dsm/policy@1'),
    acceptedState: async (stateId) => {
      const signed = await this.signedState(stateId);
      return signed?.state;
    },
    isForked: (identity) => this.forkedSet.has(identity.toString()),
    conflictingState: async (identity, n, stateId) => {
      const head = await this.head(identity);
      if (head === null || n > head.n) return undefined; // nothing is stored above the head
      const existing = await this.stateIdAt(identity, n);
      return existing !== undefined && !existing.equals(stateId) ? existing : undefined;
    },
    validPolicy: (anchor, policy) => {
      const key = anchor.toString();
      let valid = this.policies.get(key);
      if (valid === undefined) {
        valid = validatePolicy(policy);
        this.policies.set(key, valid);
      }
      return valid;
    },
  };

  private async typed<T extends DsmObject>(id: CID, type: T['type']): Promise<T | undefined> {
    const key = id.toString();
    let object = this.content.get(key);
    if (object === undefined) {
      const bytes = await this.read(keys.object(id));
      if (bytes === null) return undefined;
      object = decodeObject(bytes);
      if (object.type !== 'dsm/signed-state@1') this.content.set(key, object);
    }
    return object.type === type ? (object as T) : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  get(id: CID): Promise<Uint8Array | null> {
    return this.read(keys.object(id));
  }

  genesis(identity: CID): Promise<Genesis | undefined> {
    return this.typed<Genesis>(identity, 'dsm/genesis@1');
  }

  async signedState(stateId: CID): Promise<SignedState | undefined> {
    const bytes = await this.read(keys.object(stateId));
    if (bytes === null) return undefined;
    const object = decodeObject(bytes);
    return object.type === 'dsm/signed-state@1' ? object : undefined;
  }

  async head(identity: CID): Promise<Head | null> {
    const cached = this.heads.get(identity.toString());
    if (cached) return cached.head;
    const value = await this.read(keys.head(identity));
    if (value === null) return null;
    const head = { stateId: idFromBytes(value.subarray(0, 36)), n: Number(readU64be(value, 36)) };
    const state = await this.signedState(head.stateId);
    if (state) this.heads.set(identity.toString(), { head, state: state.state });
    return head;
  }

  async stateIdAt(identity: CID, n: number): Promise<CID | undefined> {
    const value = await this.read(keys.height(identity, n));
    return value === null ? undefined : idFromBytes(value);
  }

  /** Accepted state ids of a chain from height `from`, in order. */
  async chain(identity: CID, from = 0, limit = 1000): Promise<{ n: number; stateId: CID }[]> {
    const out: { n: number; stateId: CID }[] = [];
    for await (const { key, value } of this.store.iterate({
      gte: keys.height(identity, from),
      lt: keys.height(identity, Number.MAX_SAFE_INTEGER),
      limit,
    })) {
      out.push({ n: Number(readU64be(key, key.length - 8)), stateId: idFromBytes(value) });
    }
    return out;
  }

  async creation(token: CID): Promise<CID | undefined> {
    return (await this.creationRecord(token))?.stateId;
  }

  private async creationRecord(token: CID): Promise<{ stateId: CID; identity: CID; n: number } | undefined> {
    const cached = this.creations.get(token.toString());
    if (cached) return cached;
    const value = await this.read(keys.creation(token));
    if (value === null) return undefined;
    const stateId = idFromBytes(value);
    const state = (await this.signedState(stateId))!.state;
    const record = { stateId, identity: state.identity, n: state.n };
    this.creations.set(token.toString(), record);
    return record;
  }

  async supply(token: CID): Promise<Supply | undefined> {
    const value = await this.read(keys.supply(token));
    return value === null ? undefined : (dagCbor.decode(value) as Supply);
  }

  async inbox(
    recipient: CID,
    options: { pendingOnly?: boolean; limit?: number } = {},
  ): Promise<InboxEntry[]> {
    const out: InboxEntry[] = [];
    for await (const { key, value } of this.store.prefix(keys.inboxPrefix(recipient))) {
      const transfer = idFromBytes(value);
      const receivedBy = await this.store.get(keys.received(transfer));
      if (options.pendingOnly && receivedBy !== null) continue;
      const state = (await this.signedState(transfer))!.state;
      const op = state.op;
      if (op.kind !== 'token.transfer') continue;
      out.push({
        transfer,
        seq: readU64be(key, key.length - 8),
        from: state.identity,
        token: op.token,
        amount: op.amount,
        ...(op.memo !== undefined ? { memo: op.memo } : {}),
        ...(receivedBy !== null ? { receivedBy: idFromBytes(receivedBy) } : {}),
      });
      if (options.limit !== undefined && out.length >= options.limit) break;
    }
    return out;
  }

  /** One transfer as an inbox entry of its recipient (one read for the receive marker), or undefined. */
  async transfer(transfer: CID): Promise<(InboxEntry & { to: CID }) | undefined> {
    const signed = await this.signedState(transfer);
    const op = signed?.state.op;
    if (!signed || op?.kind !== 'token.transfer') return undefined;
    const receivedBy = await this.read(keys.received(transfer));
    return {
      transfer,
      seq: 0n,
      from: signed.state.identity,
      to: op.to,
      token: op.token,
      amount: op.amount,
      ...(op.memo !== undefined ? { memo: op.memo } : {}),
      ...(receivedBy !== null ? { receivedBy: idFromBytes(receivedBy) } : {}),
    };
  }

  async forks(identity: CID): Promise<ForkEvidence[]> {
    const out: ForkEvidence[] = [];
    for await (const { key, value } of this.store.prefix(keys.evidencePrefix(identity))) {
      const record = dagCbor.decode(value) as { existing: CID; n: number; bytes: Uint8Array };
      out.push({
        identity,
        n: record.n,
        existing: record.existing,
        candidate: idFromBytes(key.subarray(key.length - 36)),
        candidateBytes: record.bytes,
      });
    }
    return out;
  }

  forkedIdentities(): CID[] {
    return [...this.forkedSet].map((id) => CID.parse(id));
  }

  // ---------------------------------------------------------------------------------------------
  // Replication

  /**
   * Log entries after `after`, in order, with the bytes to send (evidence: the candidate envelope): at most
   * `limit` entries, ending with the one that brings the object bytes to `maxBytes` (at least one entry).
   */
  async log(after: bigint, limit: number, maxBytes: number): Promise<(LogEntry & { bytes: Uint8Array })[]> {
    const out: (LogEntry & { bytes: Uint8Array })[] = [];
    const last = this.lastSeq;
    if (after >= last) return [];
    let total = 0;
    for await (const { key, value } of this.store.iterate({
      gt: keys.log(after),
      lte: keys.log(last),
      limit,
    })) {
      const entry: LogEntry = {
        seq: readU64be(key, key.length - 8),
        kind: value[0] as 0 | 1,
        id: idFromBytes(value.subarray(1)),
      };
      const bytes = await this.bytesOf(entry);
      if (bytes === null) continue;
      out.push({ ...entry, bytes });
      total += bytes.length;
      if (total >= maxBytes) break;
    }
    return out;
  }

  private async bytesOf(entry: LogEntry): Promise<Uint8Array | null> {
    if (entry.kind === LOG_OBJECT) return this.store.get(keys.object(entry.id));
    for await (const { key, value } of this.store.prefix(Buffer.from('evidence\0'))) {
      if (idFromBytes(key.subarray(key.length - 36)).equals(entry.id))
        return (dagCbor.decode(value) as { bytes: Uint8Array }).bytes;
    }
    return null;
  }

  /** Every id in a digest bucket (accepted objects and evidence candidates). */
  async bucket(bucket: number): Promise<CID[]> {
    const prefix = Buffer.concat([keys.objectPrefix(), Uint8Array.of(0x01, 0x71, 0x1e, 0x20, bucket)]);
    const out: CID[] = [];
    for await (const { key } of this.store.prefix(prefix))
      out.push(idFromBytes(key.subarray(keys.objectPrefix().length)));
    for await (const { key } of this.store.prefix(Buffer.from('evidence\0'))) {
      const id = idFromBytes(key.subarray(key.length - 36));
      if (id.multihash.digest[0] === bucket) out.push(id);
    }
    return out;
  }

  /** Bytes of an accepted object or of an evidence candidate. */
  async anyBytes(id: CID): Promise<Uint8Array | null> {
    return (
      (await this.get(id)) ??
      (this.evidenceIds.has(id.toString()) ? this.bytesOf({ seq: 0n, kind: LOG_EVIDENCE, id }) : null)
    );
  }

  /** The ids of `ids` held neither as accepted objects nor as evidence (one MultiGet). */
  async missing(ids: CID[]): Promise<CID[]> {
    const found = await this.store.getMany(ids.map((id) => keys.object(id)));
    return ids.filter((id, i) => found[i] === null && !this.evidenceIds.has(id.toString()));
  }

  digestSummary() {
    return this.digest.summary();
  }

  /** The highest seq below which every log entry is on disk (what the log may serve). */
  get lastSeq(): bigint {
    let lowest = this.nextSeq;
    for (const seq of this.inflight) if (seq < lowest) lowest = seq;
    return lowest - 1n;
  }

  stats(): DirectoryStats {
    return {
      objects: this.digest.count,
      bytes: this.totalBytes,
      byType: { ...this.counts },
      forks: this.forkCount,
      lastSeq: this.lastSeq,
    };
  }
}

function logValue(kind: number, id: CID): Buffer {
  return Buffer.concat([Uint8Array.of(kind), id.bytes]);
}

function encodeSupply(supply: Supply): Uint8Array {
  return dagCbor.encode(supply);
}

/** The `type` of stored (already verified) DAG-CBOR bytes without a full decode of the envelope. */
function typeOfBytes(bytes: Uint8Array): ObjectType {
  return (dagCbor.decode(bytes) as { type: ObjectType }).type;
}

/** Rejections caused by something absent (not by the object itself) carry details.missing. */
function markMissing(e: unknown): unknown {
  if (!isDsmError(e)) return e;
  const missing =
    e.code === 'E_UNKNOWN_TOKEN' ||
    e.code === 'E_POLICY_UNAVAILABLE' ||
    (e.code === 'E_RECEIVE' && e.details.known === false);
  return missing ? new DsmError(e.code, e.message, { ...e.details, [MISSING_DEPENDENCY]: true }) : e;
}
