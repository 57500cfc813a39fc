/**
 * Forwarding a request to the core node that hosts its identity, and relaying the answer unchanged. Only
 * the node holding an identity's keys can sign for it (custody is per node), so forwarding never decides
 * who signs: it finds that node, or says it cannot (503 when a peer that may host it did not answer,
 * never a 404 that might be false). A peer's claim counts only once a relayed answer is not its
 * "not hosted here" refusal, so a lying peer costs a round trip and is never remembered.
 */
import { DsmError } from '@dsm/protocol';
import { limitedFetch } from '@dsm/runtime';
import type { CorePeers } from './core-peers.js';
import { FORWARDED_HEADER, NOT_HOSTED_HEADER, creationTarget, type Unreachable } from './peers.js';

/** The request as it came (method, path with query, the headers that matter, the JSON body). */
export interface Outgoing {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** The owner's answer, to send back unchanged. */
export interface Relayed {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends `request` to a client API; throws when no answer came (refused, reset, timed out). */
export type Relay = (apiUrl: string, request: Outgoing) => Promise<Relayed>;

export type ForwardOutcome = 'relayed' | 'unavailable' | 'not_found';
export const FORWARD_OUTCOMES: readonly ForwardOutcome[] = ['relayed', 'unavailable', 'not_found'];

/** Answer headers relayed with the body: its type, the replay marker, and the owner check's refusal. */
const ANSWER_HEADERS = ['content-type', 'idempotent-replayed', NOT_HOSTED_HEADER];
/** What an owner's answer may weigh (an export of a long chain included). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export function httpRelay(timeoutMs: number): Relay {
  const get = limitedFetch(MAX_ANSWER_BYTES);
  return async (apiUrl, request) => {
    const res = await get(new URL(request.path, apiUrl), {
      method: request.method,
      headers: request.headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const body = Buffer.from(await res.arrayBuffer());
    const headers: Record<string, string> = {};
    for (const name of ANSWER_HEADERS) {
      const value = res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return { status: res.status, headers, body };
  };
}

type Attempt = { relayed: Relayed } | { notHosted: true } | { unreachable: Unreachable };

export class Forwarder {
  constructor(
    private readonly peers: CorePeers,
    private readonly relay: Relay,
    private readonly counted: (outcome: ForwardOutcome) => void,
  ) {}

  get enabled(): boolean {
    return this.peers.enabled;
  }

  /**
   * The owner's answer to a request for an identity this node does not host, or undefined when no core
   * node hosts it and every peer said so (then this node answers, as a single node would).
   */
  async forIdentity(identity: string, request: Outgoing): Promise<Relayed | undefined> {
    const cached = this.peers.owner(identity);
    if (cached !== undefined) {
      const attempt = await this.attempt(cached, request);
      if ('relayed' in attempt) return this.done(attempt.relayed);
      if ('unreachable' in attempt) throw this.unavailable(identity, [attempt.unreachable]);
      this.peers.forgetOwner(identity); // it said it does not host it after all: ask again
    }
    const { claimants, unreachable } = await this.peers.lookup(identity);
    const failed = [...unreachable];
    for (const peer of claimants) {
      const attempt = await this.attempt(peer, request);
      if ('relayed' in attempt) {
        this.peers.rememberOwner(identity, peer);
        return this.done(attempt.relayed);
      }
      // Another claimant may still be the owner: only the owner has the keys, so trying it cannot act twice.
      if ('unreachable' in attempt) failed.push(attempt.unreachable);
    }
    if (failed.length > 0) throw this.unavailable(identity, failed);
    this.counted('not_found');
    return undefined;
  }

  /**
   * A creation with an Idempotency-Key goes to the node its key names (creationTarget), so that a retry
   * landing on another node meets the first attempt's key record there. Undefined: that node is this one.
   */
  async forCreation(key: string, request: Outgoing): Promise<Relayed | undefined> {
    const target = creationTarget(this.peers.peers, key);
    if (target === undefined) return undefined;
    let apiUrl: string;
    try {
      const node = await this.peers.node(target);
      if (node.nodeId === this.peers.self.nodeId) return undefined;
      apiUrl = this.peers.apiUrl(target)!;
    } catch (e) {
      throw this.creationUnavailable(target, e);
    }
    try {
      return this.done(await this.relay(apiUrl, this.marked(request)));
    } catch (e) {
      throw this.creationUnavailable(target, e);
    }
  }

  private async attempt(peer: string, request: Outgoing): Promise<Attempt> {
    const apiUrl = this.peers.apiUrl(peer);
    if (apiUrl === undefined) return { unreachable: { peer, error: 'its client API is not known yet' } };
    let relayed: Relayed;
    try {
      relayed = await this.relay(apiUrl, this.marked(request));
    } catch (e) {
      return { unreachable: { peer, error: e instanceof Error ? e.message : String(e) } };
    }
    return relayed.headers[NOT_HOSTED_HEADER] !== undefined ? { notHosted: true } : { relayed };
  }

  private marked(request: Outgoing): Outgoing {
    return { ...request, headers: { ...request.headers, [FORWARDED_HEADER]: this.peers.self.nodeId } };
  }

  private done(relayed: Relayed): Relayed {
    this.counted('relayed');
    return relayed;
  }

  private unavailable(identity: string, failed: Unreachable[]): DsmError {
    this.counted('unavailable');
    const peers = failed.map((f) => f.peer);
    return new DsmError(
      'E_UNAVAILABLE',
      `identity ${identity} may be hosted by core node ${peers.join(', ')}, which did not answer ` +
        `(${failed.map((f) => f.error).join('; ')}); retry (with the same Idempotency-Key for a write)`,
      { identity, peers },
    );
  }

  private creationUnavailable(target: string, e: unknown): DsmError {
    this.counted('unavailable');
    return new DsmError(
      'E_UNAVAILABLE',
      `core node ${target}, which creates identities for this Idempotency-Key, did not answer ` +
        `(${e instanceof Error ? e.message : String(e)}); retry with the same key`,
      { peers: [target] },
    );
  }
}
