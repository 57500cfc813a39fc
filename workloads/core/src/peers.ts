/**
 * Several core nodes behind one Service, the pure part: which node a keyed creation goes to, where a
 * peer's client API is, what the peers' answers to "do you host X" come to, and the union of their lists.
 * Custody is per node (an identity's keys live only where it was created), so none of this decides who
 * may sign: it only finds the one node that can.
 */
import { createHash } from 'node:crypto';
import type { HostedIdentity } from './hosted.js';

/** Set on a request one core node relays to another: the receiver answers as a single node, never relays. */
export const FORWARDED_HEADER = 'dsm-forwarded-by';
/** Set by a node refusing a relayed request for an identity it does not host: that claim was false. */
export const NOT_HOSTED_HEADER = 'dsm-not-hosted';

/**
 * The node a creation with this Idempotency-Key goes to, whichever node receives it: the peer list sorted,
 * index = SHA-256(key) mod N. Every node must have the same list for this to be the same node.
 */
export function creationTarget(peers: readonly string[], key: string): string | undefined {
  const sorted = [...new Set(peers)].sort();
  if (sorted.length === 0) return undefined;
  const digest = createHash('sha256').update(key, 'utf8').digest();
  return sorted[digest.readUInt32BE(0) % sorted.length];
}

/** A peer's client API: the host of its P2P address with the API port it reports. */
export function apiUrlOf(peer: string, apiPort: number): string {
  const host = peer.slice(0, peer.lastIndexOf(':'));
  return `http://${host}:${apiPort}`;
}

/** One peer's answer to "do you host X" (or why there was none). */
export type HostsAnswer = { peer: string; hosted: boolean; nodeId: string } | { peer: string; error: string };

export interface Unreachable {
  peer: string;
  error: string;
}

export interface Ownership {
  /** Peers that say they host it, in list order: only relaying to one proves it (a peer may lie). */
  claimants: string[];
  /** Peers that did not answer: the identity may be on one of them. */
  unreachable: Unreachable[];
}

/** What the answers come to; this node's own answer (by its id) is left out: it already looked itself. */
export function ownershipOf(answers: readonly HostsAnswer[], selfNodeId: string): Ownership {
  const claimants: string[] = [];
  const unreachable: Unreachable[] = [];
  for (const answer of answers) {
    if ('error' in answer) unreachable.push({ peer: answer.peer, error: answer.error });
    else if (answer.hosted && answer.nodeId !== selfNodeId) claimants.push(answer.peer);
  }
  return { claimants, unreachable };
}

/** The union of hosted lists, each identity once, in id order, fields in one order: the same from every node. */
export function mergeHosted(lists: readonly (readonly HostedIdentity[])[]): HostedIdentity[] {
  const byId = new Map<string, HostedIdentity>();
  for (const list of lists)
    for (const { identity, suite, label, createdAt } of list)
      if (!byId.has(identity))
        byId.set(identity, { identity, suite, ...(label !== undefined ? { label } : {}), createdAt });
  return [...byId.values()].sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
}
