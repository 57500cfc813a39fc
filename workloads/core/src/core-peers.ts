/**
 * The other core nodes of DSM_CORE_PEERS, as this node sees them: who each one is (its node id, learnt
 * from its answers, so this node recognises itself in the list), where its client API is, which one hosts
 * an identity (asked in parallel with a short timeout; an owner proven by a relayed answer is remembered
 * for good, since keys never move), and the union of their hosted lists.
 */
import * as b from '@dsm/api';
import { coreP2pRoutes as P, pathOf } from '@dsm/api';
import { HttpClient } from '@dsm/runtime';
import type { z } from 'zod';
import type { HostedIdentity } from './hosted.js';
import { apiUrlOf, mergeHosted, ownershipOf, type HostsAnswer, type Ownership } from './peers.js';

export type CoreNodeInfo = z.output<typeof b.CoreNodeInfo>;

/** "Do you host X" is one key lookup on the peer: an answer later than this means the peer is in trouble. */
export const LOOKUP_TIMEOUT_MS = 1000;
/** A peer's whole hosted list may be long. */
export const LIST_TIMEOUT_MS = 5000;

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class CorePeers {
  /** What each peer said it is. */
  private readonly nodes = new Map<string, CoreNodeInfo>();
  /** identity → the peer a relayed answer proved to host it. */
  private readonly owners = new Map<string, string>();
  /** Lookups in flight, shared by concurrent requests for the same identity. */
  private readonly lookups = new Map<string, Promise<Ownership>>();
  private readonly clients = new Map<string, HttpClient>();

  constructor(
    readonly peers: readonly string[],
    readonly self: CoreNodeInfo,
  ) {}

  /** False for a single core node (no DSM_CORE_PEERS): nothing is ever forwarded. */
  get enabled(): boolean {
    return this.peers.length > 0;
  }

  /** Whether `peer` answered with this node's own id. */
  isSelf(peer: string): boolean {
    return this.nodes.get(peer)?.nodeId === this.self.nodeId;
  }

  /** The client API of a peer that has answered (its reported port on its P2P host). */
  apiUrl(peer: string): string | undefined {
    const node = this.nodes.get(peer);
    return node && apiUrlOf(peer, node.apiPort);
  }

  owner(identity: string): string | undefined {
    return this.owners.get(identity);
  }

  rememberOwner(identity: string, peer: string): void {
    this.owners.set(identity, peer);
  }

  forgetOwner(identity: string): void {
    this.owners.delete(identity);
  }

  /** Who `peer` is, asked once and then remembered. */
  async node(peer: string): Promise<CoreNodeInfo> {
    const known = this.nodes.get(peer);
    if (known) return known;
    const info = await this.client(peer).get(P.node.path, {
      schema: b.CoreNodeInfo,
      timeoutMs: LOOKUP_TIMEOUT_MS,
    });
    this.nodes.set(peer, info);
    return info;
  }

  /** Which other peers say they host `identity`, and which did not answer. */
  lookup(identity: string): Promise<Ownership> {
    let running = this.lookups.get(identity);
    if (running === undefined) {
      running = this.ask(identity).finally(() => this.lookups.delete(identity));
      this.lookups.set(identity, running);
    }
    return running;
  }

  private async ask(identity: string): Promise<Ownership> {
    const answers = await Promise.all(
      this.others().map(async (peer): Promise<HostsAnswer> => {
        try {
          const answer = await this.client(peer).get(pathOf(P.hosts, { id: identity }), {
            schema: b.CoreHosts,
            timeoutMs: LOOKUP_TIMEOUT_MS,
          });
          this.nodes.set(peer, { nodeId: answer.nodeId, apiPort: answer.apiPort });
          return { peer, hosted: answer.hosted && answer.identity === identity, nodeId: answer.nodeId };
        } catch (e) {
          return { peer, error: reason(e) };
        }
      }),
    );
    return ownershipOf(answers, this.self.nodeId);
  }

  /** This node's hosted identities and every reachable peer's, each once; `unreachable` names the others. */
  async hostedEverywhere(
    local: HostedIdentity[],
  ): Promise<{ identities: HostedIdentity[]; unreachable?: string[] }> {
    if (!this.enabled) return { identities: local };
    const unreachable: string[] = [];
    const lists = await Promise.all(
      this.others().map(async (peer) => {
        try {
          const list = await this.client(peer).get(P.hostedHere.path, {
            schema: b.CoreHostedList,
            timeoutMs: LIST_TIMEOUT_MS,
          });
          this.nodes.set(peer, { nodeId: list.nodeId, apiPort: list.apiPort });
          return list.identities;
        } catch {
          unreachable.push(peer);
          return [];
        }
      }),
    );
    const identities = mergeHosted([local, ...lists]);
    return unreachable.length > 0 ? { identities, unreachable: unreachable.sort() } : { identities };
  }

  /** The peers that are not this node (as far as their answers tell). */
  private others(): string[] {
    return this.peers.filter((peer) => !this.isSelf(peer));
  }

  private client(peer: string): HttpClient {
    let client = this.clients.get(peer);
    if (client === undefined) {
      // No retries: a peer that does not answer at once is reported, and the caller retries the request.
      client = new HttpClient({ baseUrl: `http://${peer}`, retries: 0, timeoutMs: LOOKUP_TIMEOUT_MS });
      this.clients.set(peer, client);
    }
    return client;
  }
}
