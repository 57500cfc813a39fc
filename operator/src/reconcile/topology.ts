/**
 * The storage peer lists of running nodes: a node started before a scale-up does not know the new pods
 * (its list comes from its config file, left out of the config digest so scaling restarts nothing), and
 * one that stays after a scale-down still lists the removed ones. Pure: which peers to add and remove.
 */
import { entryFor, type Member, type ProbeAnswer } from './catchup.js';

export interface TopologyChange {
  pod: string;
  add: string[];
  remove: string[];
}

/**
 * For each member that answered: the other members it does not list (added at their peer address), and the
 * entries of former members (`gone`: pods that no longer exist) it still lists (removed by their address).
 */
export function planTopology(
  members: readonly Member[],
  gone: readonly Member[],
  answers: ReadonlyMap<string, ProbeAnswer>,
): TopologyChange[] {
  const changes: TopologyChange[] = [];
  for (const member of members) {
    const answer = answers.get(member.pod);
    if (answer === undefined || !answer.ok) continue;
    const add = members
      .filter((m) => m.pod !== member.pod && entryFor(answer.peers, m) === undefined)
      .map((m) => m.address);
    const remove = gone
      .map((g) => entryFor(answer.peers, g))
      .filter((e) => e !== undefined)
      .map((e) => e.address);
    if (add.length > 0 || remove.length > 0)
      changes.push({ pod: member.pod, add, remove: [...new Set(remove)] });
  }
  return changes;
}
