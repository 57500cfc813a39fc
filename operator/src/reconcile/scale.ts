/**
 * How many storage pods the StatefulSet may have. Scaling up is immediate (new pods join and catch up);
 * scaling down removes a pod only once at least replicationFactor of the pods that stay have taken
 * everything it holds, judged from their own peer lists (catchup.ts). Anything unclear keeps the pod.
 */
import { syncGap, type CatchUpOptions, type Member, type ProbeAnswer } from './catchup.js';

export interface ScaleInput {
  /** spec.storage.replicas. */
  wanted: number;
  /** The live StatefulSet's spec.replicas; undefined before it exists. */
  current: number | undefined;
  replicationFactor: number;
  /** Storage pods by ordinal, at least `current` of them (what `names().pod('storage', i)` gives). */
  members: readonly Member[];
  answers: ReadonlyMap<string, ProbeAnswer>;
  catchUp: CatchUpOptions;
}

export interface ScaleRefusal {
  /** The pods that must stay, highest ordinal first. */
  pods: string[];
  message: string;
}

export interface ScalePlan {
  /** spec.replicas of the storage StatefulSet to apply. */
  replicas: number;
  direction?: 'up' | 'down';
  refused?: ScaleRefusal;
}

/** The remaining pods that do not (yet) hold all of `leaving`'s data, with why. */
function missingHolders(input: ScaleInput, leaving: Member): { holders: number; gaps: string[] } {
  const remaining = input.members.slice(0, input.wanted);
  const gaps: string[] = [];
  let holders = 0;
  for (const pod of remaining) {
    const gap = syncGap(input.answers.get(pod.pod), leaving, input.catchUp);
    if (gap === undefined) holders++;
    else gaps.push(`${pod.pod} ${gap}`);
  }
  return { holders, gaps };
}

export function planScale(input: ScaleInput): ScalePlan {
  const { wanted, current, replicationFactor } = input;
  if (current === undefined || wanted === current) return { replicas: wanted };
  if (wanted > current) return { replicas: wanted, direction: 'up' };
  // The StatefulSet removes the highest ordinals first: step down past each pod that is safe to lose,
  // stopping at the first one that is not.
  let replicas = current;
  const blocked: { pod: string; holders: number; gaps: string[] }[] = [];
  for (let i = current - 1; i >= wanted; i--) {
    const leaving = input.members[i];
    if (leaving === undefined) break;
    const { holders, gaps } = missingHolders(input, leaving);
    if (holders >= replicationFactor) {
      if (blocked.length === 0) replicas = i;
      continue;
    }
    blocked.push({ pod: leaving.pod, holders, gaps });
    break;
  }
  if (blocked.length === 0) return { replicas, direction: 'down' };
  const first = blocked[0]!;
  const message =
    `not removing storage pod ${first.pod}: its data is on ${first.holders} of the ${replicationFactor} ` +
    `remaining pods it must be on (replicationFactor ${replicationFactor}): ${first.gaps.join('; ')}. ` +
    `Keeping ${replicas} storage replicas (spec asks ${wanted}) and checking again; the remaining pods ` +
    `catch up by themselves while ${first.pod} runs. If ${first.pod} is down, start it again (its data may ` +
    `be nowhere else), or set spec.storage.replicas back to ${current}.`;
  return { replicas, direction: 'down', refused: { pods: blocked.map((b) => b.pod), message } };
}
