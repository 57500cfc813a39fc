/**
 * The core node's view of the storage nodes: writes go to the first node that acknowledges them (it
 * replicates to the replication factor before answering), reads to the first node that answers.
 * The list changes at run time (`dsm topology add-peer`).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { DsmError, isDsmError, type CID } from '@dsm/protocol';
import { HttpClient } from '@dsm/runtime';

export interface WriteAck {
  id: string;
  type: string;
  stored: boolean;
  replicas: string[];
}

export interface InboxEntry {
  transfer: string;
  seq: number;
  from: string;
  token: string;
  amount: string;
  memo?: string;
  received: boolean;
  receivedBy?: string;
}

export interface TokenRecord {
  token: string;
  created: boolean;
  creation?: string;
  supply: { issued: string; burned: string } | null;
}

export class StorageClient {
  private readonly clients = new Map<string, HttpClient>();
  private nodes: string[];

  constructor(
    nodes: string[],
    private readonly timeoutMs: number,
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

  private client(node: string): HttpClient {
    let client = this.clients.get(node);
    if (client === undefined) {
      client = new HttpClient({ baseUrl: `http://${node}`, timeoutMs: this.timeoutMs, retries: 1 });
      this.clients.set(node, client);
    }
    return client;
  }

  /**
   * Tries each storage node in turn. A protocol rejection is final (every node would say the same);
   * unreachable nodes and 503s move on to the next; when none succeeds the result is E_UNAVAILABLE.
   */
  private async first<T>(work: (client: HttpClient) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    let last: DsmError | undefined;
    for (const node of this.nodes) {
      try {
        return await work(this.client(node));
      } catch (e) {
        // A node that lacks a dependency (it lags behind its peers) is no answer either: ask the next one.
        if (!isDsmError(e) || (e.code !== 'E_UNAVAILABLE' && e.details.missing !== true)) throw e;
        failures.push(`${node}: ${e.message}`);
        last = e;
      }
    }
    // Every node lacked a dependency: that is the answer (the object really depends on something unknown).
    if (last && last.code !== 'E_UNAVAILABLE') throw last;
    throw new DsmError('E_UNAVAILABLE', 'no storage node could take the request; retry later', {
      nodes: this.nodes,
      failures,
    });
  }

  /** Writes an object; resolves once the storage layer has it on `replicationFactor` nodes. */
  put(bytes: Uint8Array): Promise<WriteAck> {
    return this.first((c) => c.postBytes<WriteAck>('/v1/objects', bytes, { idempotent: true }));
  }

  /** Object bytes, or undefined when no node has it. */
  async get(id: CID): Promise<Uint8Array | undefined> {
    return this.orNotFound(() => this.first((c) => c.getBytes(`/v1/objects/${id.toString()}`)));
  }

  /**
   * The head as the most advanced storage node knows it (any node may lag, e.g. just restarted): every
   * reachable node is asked and the highest wins; forked if any node says so.
   */
  async head(identity: CID): Promise<{ n: number; stateId: string; forked: boolean } | undefined> {
    const answers = await Promise.all(
      this.nodes.map((node) =>
        this.client(node)
          .get<{ n: number; stateId: string; forked: boolean }>(`/v1/identities/${identity.toString()}/head`)
          .then(
            (head) => ({ head }),
            (e: unknown) => (isDsmError(e, 'E_NOT_FOUND') ? { head: undefined } : { error: e }),
          ),
      ),
    );
    const heads = answers.flatMap((a) => ('head' in a && a.head ? [a.head] : []));
    if (heads.length === 0) {
      const failure = answers.find((a) => 'error' in a);
      if (failure && answers.every((a) => 'error' in a)) throw (failure as { error: unknown }).error;
      return undefined;
    }
    const best = heads.reduce((a, b) => (b.n > a.n ? b : a));
    return { ...best, forked: heads.some((h) => h.forked) };
  }

  async stateAt(identity: CID, n: number): Promise<Uint8Array | undefined> {
    return this.orNotFound(() =>
      this.first((c) => c.getBytes(`/v1/identities/${identity.toString()}/states/${n}`)),
    );
  }

  async chain(identity: CID, from: number, limit: number): Promise<{ n: number; stateId: string }[]> {
    const res = await this.first((c) =>
      c.get<{ states: { n: number; stateId: string }[] }>(`/v1/identities/${identity.toString()}/states`, {
        query: { from, limit },
      }),
    );
    return res.states;
  }

  async inbox(identity: CID, pendingOnly: boolean): Promise<InboxEntry[]> {
    const res = await this.first((c) =>
      c.get<{ entries: InboxEntry[] }>(`/v1/identities/${identity.toString()}/inbox`, {
        query: { pending: pendingOnly },
      }),
    );
    return res.entries;
  }

  /** One transfer with its recipient and whether (and by which state) it was received. */
  async transfer(transfer: CID): Promise<(InboxEntry & { to: string }) | undefined> {
    return this.orNotFound(() =>
      this.first((c) => c.get<InboxEntry & { to: string }>(`/v1/transfers/${transfer.toString()}`)),
    );
  }

  async token(token: CID): Promise<TokenRecord | undefined> {
    return this.orNotFound(() => this.first((c) => c.get<TokenRecord>(`/v1/tokens/${token.toString()}`)));
  }

  async forks(
    identity: CID,
  ): Promise<{ forked: boolean; evidence: { n: number; existing: string; candidate: string }[] }> {
    return this.first((c) => c.get(`/v1/identities/${identity.toString()}/forks`));
  }

  /** Status of every storage node (unreachable ones included). */
  async statuses(): Promise<{ node: string; up: boolean; status?: unknown; error?: string }[]> {
    return Promise.all(
      this.nodes.map(async (node) => {
        try {
          return {
            node,
            up: true,
            status: await this.client(node).get('/v1/status', { retries: 0, timeoutMs: 2000 }),
          };
        } catch (e) {
          return { node, up: false, error: (e as Error).message };
        }
      }),
    );
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

export function decodeCbor<T>(bytes: Uint8Array): T {
  return dagCbor.decode(bytes) as T;
}
