/**
 * What storage pods' peer lists (`GET /v1/admin/peers`) say about each other: whether a pod has taken
 * everything a member of the cluster holds. Pure: the probe (probe.ts) fetches, this judges. Anything
 * short of a fresh, error-free, up, `behind === 0` entry is "not synced": an unclear answer never counts.
 */
import type { Peer } from '@dsm/api';

/** One pod's answer, or why there is none. */
export type ProbeAnswer = { ok: true; peers: Peer[] } | { ok: false; error: string };

export interface Member {
  /** Pod name (the storage node's id). */
  pod: string;
  /** `host:port` other nodes list it at. */
  address: string;
}

export interface CatchUpOptions {
  now: number;
  /** An entry whose last successful sync is older than this is stale (the peer may have moved on). */
  maxAgeMs: number;
}

/** The entry of `member` in a peer list: by node id, by address, or by the pod name as first DNS label. */
export function entryFor(peers: readonly Peer[], member: Member): Peer | undefined {
  return (
    peers.find((p) => p.nodeId === member.pod) ??
    peers.find((p) => p.address === member.address) ??
    peers.find((p) => p.address.split(':')[0]!.split('.')[0] === member.pod && !/^\d+$/.test(member.pod))
  );
}

/** Why `entry` does not show its node has everything `peer` holds (`<node> <why>`), or undefined when it does. */
export function notSyncedBecause(
  entry: Peer | undefined,
  peer: string,
  options: CatchUpOptions,
): string | undefined {
  if (entry === undefined) return `does not list ${peer} as a peer`;
  if (!entry.up) return `sees ${peer} down${entry.lastError ? ` (${entry.lastError})` : ''}`;
  if (entry.lastError) return `failed its last sync with ${peer}: ${entry.lastError}`;
  if (entry.behind === undefined || !Number.isInteger(entry.behind) || entry.behind < 0)
    return `reports no catch-up position for ${peer}`;
  if (entry.behind > 0) return `is ${entry.behind} log entries behind ${peer}`;
  const at = entry.lastSyncAt === undefined ? NaN : Date.parse(entry.lastSyncAt);
  if (Number.isNaN(at)) return `has not synced with ${peer} yet`;
  const age = options.now - at;
  if (age > options.maxAgeMs) return `last synced with ${peer} ${Math.round(age / 1000)} s ago`;
  return undefined;
}

/** Why the pod that gave `answer` is not synced with `member`, or undefined when it is. */
export function syncGap(
  answer: ProbeAnswer | undefined,
  member: Member,
  options: CatchUpOptions,
): string | undefined {
  if (answer === undefined) return 'was not asked for its peers';
  if (!answer.ok) return `did not answer (${answer.error})`;
  return notSyncedBecause(entryFor(answer.peers, member), member.pod, options);
}

export interface CatchUp {
  /** Pods whose answer shows them synced with every other member. */
  caughtUp: Set<string>;
  /** `<pod> <why> <peer>` for the others, for messages. */
  gaps: Map<string, string>;
}

/** Which members are caught up with every other member. */
export function catchUp(
  members: readonly Member[],
  answers: ReadonlyMap<string, ProbeAnswer>,
  options: CatchUpOptions,
): CatchUp {
  const caughtUp = new Set<string>();
  const gaps = new Map<string, string>();
  for (const member of members) {
    const answer = answers.get(member.pod);
    if (answer !== undefined && !answer.ok) {
      gaps.set(member.pod, `${member.pod} did not answer (${answer.error})`);
      continue;
    }
    const gap = members
      .filter((other) => other.pod !== member.pod)
      .map((other) => syncGap(answer, other, options))
      .find((why) => why !== undefined);
    if (gap === undefined) caughtUp.add(member.pod);
    else gaps.set(member.pod, `${member.pod} ${gap}`);
  }
  return { caughtUp, gaps };
}
