/**
 * The core node's view of the storage nodes: writes go to the first node that acknowledges them (it
 * replicates to the replication factor before answering), reads to the first node that answers, both
 * hedged so that one slow node costs little; heads come from a read quorum, and claims the nodes disagree
 * on are believed only with proof. The list changes at run time (`dsm topology add-peer`).
 */
import {
  isMissingDependency,
  StorageApi,
  type InboxEntry,
  type Status,
  type TokenRecord,
  type TransferEntry,
  type WriteAck,
  type WriteResult,
} from '@dsm/api';
import { DsmError, isDsmError, type CID } from '@dsm/protocol';
import { Batcher, HttpClient, limitedFetch, type Settled } from '@dsm/runtime';

export type { InboxEntry, TokenRecord, WriteAck } from '@dsm/api';

/** A head as one storage node claims it. */
export interface HeadClaim {
  n: number;
  stateId: string;
  forked: boolean;
}

/**
 * Checks that `bytes`, served by a storage node, are a genuine signed state of `identity` at height `n`
 * with id `stateId` (decoded, id recomputed, signature verified). Wired by the node (it knows the geneses).
 */
export type StateProof = (
  identity: CID,
  bytes: Uint8Array,
  claim: { n: number; stateId: string },
) => Promise<boolean>;

/**
 * The most this node reads of one storage node's answer: above the largest page it asks for (10,000 chain
 * entries, 1,000 inbox entries) and any object, so a lying node cannot make the core buffer without end.
 */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
/** A read waits this long for its node before asking the next one too (hedging): a slow node costs this much. */
const READ_HEDGE_MS = 200;
/** Writes are heavier (the node replicates before it answers): hedge them later. */
const WRITE_HEDGE_MS = 1000;
/** A node that failed or was outrun by a hedge is asked last for this long. */
const SUSPECT_MS = 10_000;
/** After a read quorum answered, the others still have this long to join (so the freshest head wins). */
const QUORUM_GRACE_MS = 25;
/**
 * Group commit: writes made while earlier ones are on their way go out together, as one batch request
 * (one durable write and one replication round on the storage nodes). At most this many batches are in
 * flight, so a lone write leaves at once and batches grow only with the load.
 */
const BATCHES_IN_FLIGHT = 4;
/** A batch's size, within what storage nodes accept (256 objects, 16 MiB). */
const BATCH_OBJECTS = 128;
const BATCH_BYTES = 4 * 1024 * 1024;

export class StorageClient {
  private readonly clients = new Map<string, StorageApi>();
  private nodes: string[];
  private readonly suspectUntil = new Map<string, number>();
  /** The smallest replication factor the nodes report: a read of N − R + 1 nodes sees every acknowledged write. */
  private replicationFactor: number | undefined;
  /** Set by the node: how a head or fork claim is proven before it is believed. */
  proveState: StateProof | undefined;
  private readonly writes = new Batcher<Uint8Array, WriteAck>({
    inFlight: BATCHES_IN_FLIGHT,
    maxItems: BATCH_OBJECTS,
    maxBytes: BATCH_BYTES,
    bytesOf: (bytes) => bytes.length,
    send: (list) => this.sendBatch(list),
  });

  constructor(
    nodes: string[],
    private readonly timeoutMs: number,
    private readonly onMisbehaviour: (node: string, what: string) => void = () => undefined,
  ) {
    this.nodes = [...nodes];
  }

  list(): string[] {
    return [...this.nodes];
  }

  add(node: string): boolean {
    if (this.nodes.includes(node)) return false;
    this.nodes.push(node);
    return true;
  }

  remove(node: string): boolean {
    const before = this.nodes.length;
    this.nodes = this.nodes.filter((n) => n !== node);
    this.clients.delete(node);
    return this.nodes.length !== before;
  }

  private client(node: string): StorageApi {
    let client = this.clients.get(node);
    if (client === undefined) {
      try {
        client = new StorageApi(
          new HttpClient({
            baseUrl: `http://${node}`,
            timeoutMs: this.timeoutMs,
            retries: 1,
            fetch: limitedFetch(MAX_ANSWER_BYTES),
          }),
        );
      } catch {
        // An unusable address counts as a node that is down; it never fails the request by itself.
        throw new DsmError('E_UNAVAILABLE', `storage node address ${node} is not usable`, { node });
      }
      this.clients.set(node, client);
    }
    return client;
  }

  /** Configured order, with nodes that recently failed or were slow moved to the end. */
  private order(): string[] {
    const now = Date.now();
    const healthy = this.nodes.filter((n) => (this.suspectUntil.get(n) ?? 0) <= now);
    return [...healthy, ...this.nodes.filter((n) => !healthy.includes(n))];
  }

  private suspect(node: string): void {
    this.suspectUntil.set(node, Date.now() + SUSPECT_MS);
  }

  /**
   * Asks the nodes in order, hedged: when a node has not answered within `hedgeMs` the next one is asked
   * too, and the first answer wins, so one slow or hanging node delays a request by `hedgeMs`, not by its
   * timeout. Unreachable nodes, 503s, nodes lacking a dependency (they lag) and, for reads, "not found"
   * move on to the next node. A read's other rejections are final (every node would say the same); a
   * write's refusal waits for the other nodes, any of which may accept it. Without an answer the verdict
   * is, in this order: a refusal; "not found" from enough nodes to see every acknowledged write; unknown
   * (E_UNAVAILABLE) while any node did not answer; the missing dependency every node lacked.
   */
  private first<T>(
    work: (client: StorageApi) => Promise<T>,
    options: { hedgeMs?: number; write?: boolean } = {},
  ): Promise<T> {
    const nodes = this.order();
    const hedgeMs = options.hedgeMs ?? READ_HEDGE_MS;
    return new Promise<T>((resolve, reject) => {
      const failures: string[] = [];
      let refusal: unknown;
      let lacking: DsmError | undefined;
      let notFound: DsmError | undefined;
      let notFoundCount = 0;
      let unavailable = 0;
      let next = 0;
      let running = 0;
      let done = false;
      const finish = (outcome: () => void) => {
        if (done) return;
        done = true;
        outcome();
      };
      const verdict = (): unknown => {
        if (refusal !== undefined) return refusal;
        if (notFound && notFoundCount >= this.readQuorum()) return notFound;
        if (unavailable > 0 || (!lacking && !notFound))
          return new DsmError('E_UNAVAILABLE', 'no storage node could take the request; retry later', {
            nodes: this.nodes,
            failures,
          });
        return lacking ?? notFound;
      };
      const launch = () => {
        if (done || next >= nodes.length) return;
        const node = nodes[next++]!;
        running++;
        const hedge = setTimeout(() => {
          this.suspect(node);
          launch();
        }, hedgeMs);
        const settle = () => {
          clearTimeout(hedge);
          running--;
        };
        Promise.resolve()
          .then(() => work(this.client(node)))
          .then(
            (value) => {
              settle();
              this.suspectUntil.delete(node);
              finish(() => resolve(value));
            },
            (e: unknown) => {
              settle();
              if (!isDsmError(e)) {
                finish(() => reject(e));
                return;
              }
              if (e.code === 'E_UNAVAILABLE') {
                unavailable++;
                this.suspect(node);
              } else if (isMissingDependency(e)) lacking = e;
              else if (e.code === 'E_NOT_FOUND' && !options.write) {
                notFound = e;
                notFoundCount++;
              } else if (options.write) refusal ??= e;
              else {
                finish(() => reject(e));
                return;
              }
              failures.push(`${node}: ${e.message}`);
              if (next < nodes.length) launch();
              else if (running === 0) finish(() => reject(verdict()));
            },
          );
      };
      if (nodes.length === 0)
        reject(new DsmError('E_UNAVAILABLE', 'no storage node is configured', { nodes: [] }));
      else launch();
    });
  }

  /**
   * Asks every node at once and resolves once `needed` of them answered (plus a short grace for the rest),
   * or all settled: a hanging node cannot hold a quorum read.
   */
  private gather<T>(
    ask: (node: string) => Promise<T>,
    needed: number,
  ): Promise<{ node: string; value?: T; error?: unknown }[]> {
    const nodes = this.list();
    return new Promise((resolve) => {
      const results: { node: string; value?: T; error?: unknown }[] = [];
      let answered = 0;
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          resolve([...results]);
        }
      };
      if (nodes.length === 0) finish();
      for (const node of nodes) {
        ask(node)
          .then(
            (value) => {
              results.push({ node, value });
              if (++answered === needed) setTimeout(finish, QUORUM_GRACE_MS);
            },
            (error: unknown) => results.push({ node, error }),
          )
          .finally(() => {
            if (results.length === nodes.length) finish();
          });
      }
    });
  }

  /** How many nodes a read must hear from to see every acknowledged write. */
  private readQuorum(): number {
    const r = this.replicationFactor;
    return r === undefined ? this.nodes.length : Math.max(1, this.nodes.length - r + 1);
  }

  /**
   * Writes an object; resolves once the storage layer has it on `replicationFactor` nodes. Writes that
   * meet under load share one batch request; each still gets the answer a write of its own would get.
   */
  put(bytes: Uint8Array): Promise<WriteAck> {
    return this.writes.submit(bytes);
  }

  /** One write in its own request: hedged, and a refusal waits for the other nodes' verdicts. */
  private putOne(bytes: Uint8Array): Promise<WriteAck> {
    return this.first((c) => c.putObject(bytes), { hedgeMs: WRITE_HEDGE_MS, write: true });
  }

  /**
   * Sends a batch to the first node that answers it (hedged like a single write). Any write the batch did
   * not settle (the whole request failed, or that write met an error) is sent again on its own, so it
   * meets exactly the failover and verdict rules of a single write; writes are idempotent.
   */
  private async sendBatch(list: Uint8Array[]): Promise<Settled<WriteAck>[]> {
    const alone = (bytes: Uint8Array): Promise<Settled<WriteAck>> =>
      this.putOne(bytes).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    if (list.length === 1) return [await alone(list[0]!)];
    let results: WriteResult[] = [];
    try {
      ({ results } = await this.first((c) => c.putObjects(list), { hedgeMs: WRITE_HEDGE_MS, write: true }));
    } catch {
      // every write goes alone below
    }
    if (results.length !== list.length) results = [];
    return Promise.all(
      list.map((bytes, i) => {
        const result = results[i];
        return result === undefined || 'error' in result ? alone(bytes) : { value: result };
      }),
    );
  }

  /** Object bytes, or undefined when no node has it. */
  async get(id: CID): Promise<Uint8Array | undefined> {
    return this.orNotFound(() => this.first((c) => c.object(id.toString())));
  }

  /**
   * The head as the most advanced storage node knows it (any node may lag, e.g. just restarted), from a
   * read quorum. Claims that disagree are believed only with proof: the node must serve the state at the
   * head it claims (verified), or the fork evidence it claims, so one lying node cannot stall an identity.
   */
  async head(identity: CID): Promise<HeadClaim | undefined> {
    await this.knowReplicationFactor();
    const quorum = this.readQuorum();
    const answers = await this.gather(
      (node) =>
        this.client(node)
          .head(identity.toString(), { retries: 0 })
          .then(
            (head): HeadClaim | null => head,
            (e: unknown) => {
              if (isDsmError(e, 'E_NOT_FOUND')) return null;
              throw e;
            },
          ),
      quorum,
    );
    const answered = answers.filter((a) => a.error === undefined);
    // Fewer answers than a quorum may all come from nodes that lack the latest acknowledged state.
    if (answered.length < quorum) {
      throw new DsmError(
        'E_UNAVAILABLE',
        `only ${answered.length} of the ${quorum} storage nodes needed answered for the head of ${identity.toString()}; retry later`,
        { identity: identity.toString() },
      );
    }
    const claims = answered.flatMap((a) => (a.value ? [{ node: a.node, head: a.value }] : []));
    if (claims.length === 0) return undefined;
    // Believed without proof only when several nodes say the same (or there is no other node to ask).
    const corroborated = (n: number) => n >= 2 || this.nodes.length === 1;
    const agree = (a: HeadClaim, b: HeadClaim) => a.n === b.n && a.stateId === b.stateId;
    const unanimous =
      corroborated(claims.length) &&
      claims.length === answered.length &&
      claims.every((c) => agree(c.head, claims[0]!.head));
    let candidates = [...claims].sort((a, b) => b.head.n - a.head.n);
    let best: (typeof claims)[number] | undefined;
    while (candidates.length > 0) {
      const top = candidates[0]!;
      if (unanimous || (await this.proven(top.node, identity, top.head))) {
        best = top;
        break;
      }
      this.onMisbehaviour(top.node, `claimed head ${top.head.n} of ${identity.toString()} without proof`);
      this.suspect(top.node);
      candidates = candidates.filter((c) => c.node !== top.node);
    }
    if (best === undefined) {
      throw new DsmError(
        'E_UNAVAILABLE',
        `no storage node proved its head of ${identity.toString()}; retry later`,
        { identity: identity.toString() },
      );
    }
    const forkClaims = claims.filter((c) => c.head.forked);
    let forked = forkClaims.length > 0 && corroborated(forkClaims.length);
    for (const claim of forkClaims) {
      if (forked) break;
      forked = await this.provenFork(claim.node, identity);
      if (!forked)
        this.onMisbehaviour(claim.node, `claimed ${identity.toString()} is forked without evidence`);
    }
    return { n: best.head.n, stateId: best.head.stateId, forked };
  }

  private learning: Promise<unknown> | undefined;

  /** The replication factor, asked of the nodes once if no status has told it yet. */
  private async knowReplicationFactor(): Promise<void> {
    if (this.replicationFactor !== undefined) return;
    this.learning ??= this.gather((node) => this.status(node, 1500), 1).finally(() => {
      this.learning = undefined;
    });
    await this.learning;
  }

  /** The node serves the state it claims as head, and it verifies. */
  private async proven(node: string, identity: CID, claim: { n: number; stateId: string }): Promise<boolean> {
    if (this.proveState === undefined) return true;
    try {
      const bytes = await this.client(node).object(claim.stateId, { retries: 0 });
      return await this.proveState(identity, bytes, claim);
    } catch {
      return false;
    }
  }

  /** The node serves fork evidence of `identity` whose two states both verify and differ. */
  private async provenFork(node: string, identity: CID): Promise<boolean> {
    try {
      const { evidence } = await this.client(node).forks(identity.toString(), { retries: 0 });
      for (const e of evidence.slice(0, 4)) {
        if (e.existing === e.candidate) continue;
        const candidate = await this.client(node).object(e.candidate, { evidence: true, retries: 0 });
        if (
          (await this.proven(node, identity, { n: e.n, stateId: e.existing })) &&
          (await this.proveState?.(identity, candidate, { n: e.n, stateId: e.candidate })) !== false
        )
          return true;
      }
    } catch {
      // no answer is no proof
    }
    return false;
  }

  async stateAt(identity: CID, n: number): Promise<Uint8Array | undefined> {
    return this.orNotFound(() => this.first((c) => c.state(identity.toString(), n)));
  }

  async chain(identity: CID, from: number, limit: number): Promise<{ n: number; stateId: string }[]> {
    return (await this.first((c) => c.states(identity.toString(), from, limit))).states;
  }

  async inbox(identity: CID, pendingOnly: boolean): Promise<InboxEntry[]> {
    return (await this.first((c) => c.inbox(identity.toString(), pendingOnly))).entries;
  }

  /** One transfer with its recipient and whether (and by which state) it was received. */
  async transfer(transfer: CID): Promise<TransferEntry | undefined> {
    return this.orNotFound(() => this.first((c) => c.transfer(transfer.toString())));
  }

  async token(token: CID): Promise<TokenRecord | undefined> {
    return this.orNotFound(() => this.first((c) => c.token(token.toString())));
  }

  forks(
    identity: CID,
  ): Promise<{ forked: boolean; evidence: { n: number; existing: string; candidate: string }[] }> {
    return this.first((c) => c.forks(identity.toString()));
  }

  private status(node: string, timeoutMs: number): Promise<Status> {
    return this.client(node)
      .status({ retries: 0, timeoutMs })
      .then((status) => {
        this.learn(status.replicationFactor);
        return status;
      });
  }

  private learn(replicationFactor: unknown): void {
    if (
      typeof replicationFactor !== 'number' ||
      !Number.isInteger(replicationFactor) ||
      replicationFactor < 1
    )
      return;
    this.replicationFactor = Math.min(this.replicationFactor ?? replicationFactor, replicationFactor);
  }

  /** Status of every storage node (unreachable ones included). */
  async statuses(): Promise<{ node: string; up: boolean; status?: unknown; error?: string }[]> {
    return Promise.all(
      this.nodes.map(async (node) => {
        try {
          return { node, up: true, status: await this.status(node, 2000) };
        } catch (e) {
          return { node, up: false, error: (e as Error).message };
        }
      }),
    );
  }

  /**
   * Ready when enough nodes answer to take a write (the replication factor): resolves as soon as they
   * have, so a hanging node does not fail the probe. Throws naming the shortfall.
   */
  async ready(timeoutMs = 1500): Promise<void> {
    const needed = Math.min(this.replicationFactor ?? 1, this.nodes.length);
    const answers = await this.gather((node) => this.status(node, timeoutMs), needed);
    // A node that had not answered by then is asked last, so requests do not wait on it first.
    for (const node of this.nodes)
      if (!answers.some((a) => a.node === node && a.error === undefined)) this.suspect(node);
    const up = answers.filter((a) => a.error === undefined).length;
    // Judged with the replication factor as the answers just reported it (the first probe learns it).
    const required = Math.min(this.replicationFactor ?? 1, this.nodes.length);
    if (up < required)
      throw new Error(`${up} of ${this.nodes.length} storage nodes answer; ${required} needed`);
  }

  private async orNotFound<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (e) {
      if (isDsmError(e, 'E_NOT_FOUND')) return undefined;
      throw e;
    }
  }
}
