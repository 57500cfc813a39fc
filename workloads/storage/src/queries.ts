/**
 * What the directory answers (protocol.md §7): content by id, chain heads and heights, token creations and
 * supplies, inboxes and transfers, fork evidence and forked identities. The hot facts are kept in memory
 * and written through by ingest on every commit (every write goes through it): chain heads with their
 * state, token creations (immutable once set), forked identities, evidence ids, and small immutable content.
 * Reads see durable data only, except the work of a replication page being applied, which also sees the
 * page's writes (Journal.read) and whose cache updates stay local to the page until its batch is on disk.
 */
import {
  CID,
  decodeObject,
  idFromBytes,
  type DsmObject,
  type Genesis,
  type SignedState,
  type State,
} from '@dsm/protocol';
import { BoundedMap, readU64be, type Store } from '@dsm/runtime';
import { decodeEvidence, decodeHead, decodeSupply, type Head, type Supply } from './effects.js';
import type { Journal } from './journal.js';
import { keys } from './keys.js';

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

export interface ForkEvidence {
  identity: CID;
  n: number;
  existing: CID;
  candidate: CID;
  /** The conflicting signed state as received. */
  candidateBytes: Uint8Array;
}

/** Where a token was created: its token.create state, in the chain of `identity` at height `n`. */
export interface CreationRecord {
  stateId: CID;
  identity: CID;
  n: number;
}

/** Every evidence record, of every identity (keys.evidence without an identity). */
export const ALL_EVIDENCE = Buffer.from('evidence\0');

/** The candidate id at the end of an evidence key. */
export function evidenceCandidate(key: Buffer): CID {
  return idFromBytes(key.subarray(key.length - 36));
}

export class Queries {
  private readonly heads = new BoundedMap<string, { head: Head; state: State }>(50_000);
  private readonly creations = new BoundedMap<string, CreationRecord>(50_000);
  private readonly forkedSet = new Set<string>();
  private readonly evidenceIds = new Set<string>();
  /** Immutable content decoded once (genesis, tokens, policies are small and hot). */
  private readonly content = new BoundedMap<string, DsmObject>(10_000);

  constructor(
    private readonly store: Store,
    private readonly journal: Journal,
  ) {}

  /** A cached value: the page's own (its work only), else the shared cache. */
  private cached<V>(kind: string, id: string, shared: Map<string, V>): V | undefined {
    const local = this.journal.local();
    return (local?.get(`${kind}:${id}`) as V | undefined) ?? shared.get(id);
  }

  /** Caches a value read or written: local to the page for its own work, else shared. */
  private fill<V>(kind: string, id: string, shared: Map<string, V>, value: V): void {
    const local = this.journal.local();
    if (local) local.set(`${kind}:${id}`, value);
    else shared.set(id, value);
  }

  /** Caches what a commit wrote: for a page's work, locally now and shared once the page is on disk. */
  private written<V>(kind: string, id: string, shared: Map<string, V>, value: V): void {
    this.journal.local()?.set(`${kind}:${id}`, value);
    this.journal.whenDurable(() => shared.set(id, value));
  }

  private flag(kind: string, id: string, shared: Set<string>): boolean {
    return shared.has(id) || this.journal.local()?.has(`${kind}:${id}`) === true;
  }

  // ---------------------------------------------------------------------------------------------
  // Content

  get(id: CID): Promise<Uint8Array | null> {
    return this.journal.read(keys.object(id));
  }

  /** Content of `type` by id (cached), or undefined when absent or of another type. */
  async typed<T extends DsmObject>(id: CID, type: T['type']): Promise<T | undefined> {
    const key = id.toString();
    let object = this.cached('content', key, this.content);
    if (object === undefined) {
      const bytes = await this.journal.read(keys.object(id));
      if (bytes === null) return undefined;
      object = decodeObject(bytes);
      if (object.type !== 'dsm/signed-state@1') this.fill('content', key, this.content, object);
    }
    return object.type === type ? (object as T) : undefined;
  }

  genesis(identity: CID): Promise<Genesis | undefined> {
    return this.typed<Genesis>(identity, 'dsm/genesis@1');
  }

  async signedState(stateId: CID): Promise<SignedState | undefined> {
    const bytes = await this.journal.read(keys.object(stateId));
    if (bytes === null) return undefined;
    const object = decodeObject(bytes);
    return object.type === 'dsm/signed-state@1' ? object : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Chains

  async head(identity: CID): Promise<Head | null> {
    const cached = this.cached('head', identity.toString(), this.heads);
    if (cached) return cached.head;
    const value = await this.journal.read(keys.head(identity));
    if (value === null) return null;
    const head = decodeHead(value);
    const state = await this.signedState(head.stateId);
    if (state) this.fill('head', identity.toString(), this.heads, { head, state: state.state });
    return head;
  }

  /** The cached head of `identity` with its state, if it is in memory. */
  cachedHead(identity: CID): { head: Head; state: State } | undefined {
    return this.cached('head', identity.toString(), this.heads);
  }

  async stateIdAt(identity: CID, n: number): Promise<CID | undefined> {
    const value = await this.journal.read(keys.height(identity, n));
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

  // ---------------------------------------------------------------------------------------------
  // Tokens

  async creation(token: CID): Promise<CID | undefined> {
    return (await this.creationRecord(token))?.stateId;
  }

  async creationRecord(token: CID): Promise<CreationRecord | undefined> {
    const cached = this.cached('creation', token.toString(), this.creations);
    if (cached) return cached;
    const value = await this.journal.read(keys.creation(token));
    if (value === null) return undefined;
    const stateId = idFromBytes(value);
    const state = (await this.signedState(stateId))!.state;
    const record = { stateId, identity: state.identity, n: state.n };
    this.fill('creation', token.toString(), this.creations, record);
    return record;
  }

  async supply(token: CID): Promise<Supply | undefined> {
    const value = await this.journal.read(keys.supply(token));
    return value === null ? undefined : decodeSupply(value);
  }

  // ---------------------------------------------------------------------------------------------
  // Inboxes

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
    const receivedBy = await this.journal.read(keys.received(transfer));
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

  /** The receive state that took `transfer`, if one was accepted. */
  async receivedBy(transfer: CID): Promise<CID | undefined> {
    const marker = await this.journal.read(keys.received(transfer));
    return marker === null ? undefined : idFromBytes(marker);
  }

  // ---------------------------------------------------------------------------------------------
  // Forks

  async forks(identity: CID): Promise<ForkEvidence[]> {
    const out: ForkEvidence[] = [];
    for await (const { key, value } of this.store.prefix(keys.evidencePrefix(identity))) {
      const record = decodeEvidence(value);
      out.push({
        identity,
        n: record.n,
        existing: record.existing,
        candidate: evidenceCandidate(key),
        candidateBytes: record.bytes,
      });
    }
    return out;
  }

  forkedIdentities(): CID[] {
    return [...this.forkedSet].map((id) => CID.parse(id));
  }

  isForked(identity: CID): boolean {
    return this.flag('forked', identity.toString(), this.forkedSet);
  }

  /** Whether `id` is a fork candidate kept as evidence. */
  isEvidence(id: CID): boolean {
    return this.flag('evidence', id.toString(), this.evidenceIds);
  }

  // ---------------------------------------------------------------------------------------------
  // Written through by ingest

  // (In a page, what a commit wrote is seen by the page's own work at once, by every reader once on disk.)

  rememberHead(identity: CID, head: Head, state: State): void {
    this.written('head', identity.toString(), this.heads, { head, state });
  }

  rememberCreation(token: CID, record: CreationRecord): void {
    this.written('creation', token.toString(), this.creations, record);
  }

  rememberContent(id: CID, object: DsmObject): void {
    this.written('content', id.toString(), this.content, object);
  }

  rememberFork(identity: CID, candidate: CID): void {
    const local = this.journal.local();
    local?.set(`forked:${identity.toString()}`, true);
    local?.set(`evidence:${candidate.toString()}`, true);
    this.journal.whenDurable(() => {
      this.forkedSet.add(identity.toString());
      this.evidenceIds.add(candidate.toString());
    });
  }

  /** Forgets every cache that a failed page may have filled with writes that did not land. */
  dropCaches(): void {
    this.content.clear();
    this.heads.clear();
    this.creations.clear();
  }

  /** Reads the forked identities and evidence ids from disk (at open, and after a failed page). */
  async reloadForks(): Promise<void> {
    this.forkedSet.clear();
    this.evidenceIds.clear();
    for await (const { key } of this.store.prefix(keys.forkedPrefix()))
      this.forkedSet.add(idFromBytes(key.subarray(keys.forkedPrefix().length)).toString());
    for await (const { key } of this.store.prefix(ALL_EVIDENCE))
      this.evidenceIds.add(evidenceCandidate(key).toString());
  }

  /** How many identities are forked (as far as this node knows). */
  get forkedCount(): number {
    return this.forkedSet.size;
  }
}
