/**
 * The plan of a version change: storage first, one pod at a time from the highest ordinal (the StatefulSet's
 * rollingUpdate.partition moves down by one only once every pod above it runs the new version, is ready
 * and caught up with its peers), then core once storage has settled, then the bridge once core has.
 * Pure: the same observations always give the same plan, so a restarted operator resumes a roll.
 */
import type { PodFact } from './workloads.js';

export type RolloutStep = 'RollingStorage' | 'RollingCore' | 'RollingBridge';

export interface StorageFacts {
  /** Version of the live StatefulSet's template; undefined before it exists. */
  version: string | undefined;
  /** Its live rollingUpdate.partition (undefined: 0). */
  partition: number | undefined;
  /** The StatefulSet controller has observed the live spec (status.observedGeneration, updateRevision). */
  observed: boolean;
  /** Pods 0..replicas-1 of the live StatefulSet, with whether each is caught up with its peers. */
  pods: readonly (PodFact & { caughtUp: boolean })[];
}

export interface WorkloadFacts {
  version: string | undefined;
  /** Its controller is moving pods to a new template (or has not seen the latest spec yet). */
  rolling: boolean;
  /** Every wanted pod is ready. */
  ready: boolean;
}

export interface RolloutInput {
  target: string;
  storage: StorageFacts;
  core: WorkloadFacts;
  bridge: WorkloadFacts & { enabled: boolean };
}

export interface RolloutPlan {
  versions: { storage: string; core: string; bridge: string };
  /** rollingUpdate.partition of the storage StatefulSet. */
  storagePartition: number;
  step?: RolloutStep;
  /** Why the step is not done, for the Progressing condition. */
  message?: string;
  /** Every component runs the target version with all its pods ready (storage: and caught up). */
  done: boolean;
}

const healthy = (p: PodFact & { caughtUp: boolean }) => p.exists && p.updated && p.ready && p.caughtUp;

function waitingFor(p: PodFact & { caughtUp: boolean }): string {
  if (!p.exists || !p.updated) return `${p.name} to be recreated with the new version (${p.state})`;
  if (!p.ready) return `${p.name} to be ready (${p.state})`;
  return `${p.name} to catch up with its peers`;
}

function planStorage(input: RolloutInput): {
  version: string;
  partition: number;
  settled: boolean;
  message?: string;
} {
  const { target, storage } = input;
  const count = storage.pods.length;
  if (storage.version === undefined) return { version: target, partition: 0, settled: false };
  if (storage.version !== target) {
    // Start (or restart, if the version changed again mid-roll) with the highest pod only.
    const top = storage.pods[count - 1];
    return {
      version: target,
      partition: Math.max(0, count - 1),
      settled: false,
      message: `rolling storage from ${storage.version} to ${target}, one pod at a time: starting with ${top?.name ?? 'the first pod'}`,
    };
  }
  let partition = Math.min(storage.partition ?? 0, Math.max(0, count - 1));
  const updated = storage.pods.filter((p) => p.exists && p.updated).length;
  if (!storage.observed) {
    return {
      version: target,
      partition,
      settled: false,
      message: `rolling storage to ${target}: waiting for the StatefulSet controller to see the new template`,
    };
  }
  while (partition > 0 && storage.pods.slice(partition).every(healthy)) partition--;
  const settled = partition === 0 && storage.pods.every(healthy);
  const rolling = partition > 0 || storage.pods.some((p) => p.exists && !p.updated);
  if (!rolling) return { version: target, partition, settled };
  const blocker = [...storage.pods].reverse().find((p) => p.ordinal >= partition && !healthy(p));
  const message = blocker
    ? `rolling storage to ${target} (${updated} of ${count} pods updated): waiting for ${waitingFor(blocker)}`
    : `rolling storage to ${target} (${updated} of ${count} pods updated): updating ${storage.pods[partition]?.name}`;
  return { version: target, partition, settled, message };
}

/** A component after another: it moves to the target only once `before` has settled. */
function planNext(
  name: 'core' | 'bridge',
  target: string,
  facts: WorkloadFacts,
  beforeSettled: boolean,
): { version: string; rolling: boolean; settled: boolean; message?: string } {
  if (facts.version === undefined) return { version: target, rolling: false, settled: false };
  if (facts.version !== target) {
    if (!beforeSettled) return { version: facts.version, rolling: false, settled: false };
    return {
      version: target,
      rolling: true,
      settled: false,
      message: `rolling ${name} from ${facts.version} to ${target}`,
    };
  }
  const settled = !facts.rolling && facts.ready;
  return {
    version: target,
    rolling: facts.rolling,
    settled,
    ...(facts.rolling
      ? { message: `rolling ${name} to ${target}: waiting for its pods to be updated and ready` }
      : {}),
  };
}

export function planRollout(input: RolloutInput): RolloutPlan {
  const { target } = input;
  const storage = planStorage(input);
  const core = planNext('core', target, input.core, storage.settled);
  const bridgeFacts = input.bridge.enabled ? input.bridge : { version: target, rolling: false, ready: true };
  const bridge = planNext('bridge', target, bridgeFacts, storage.settled && core.settled);
  const versions = { storage: storage.version, core: core.version, bridge: bridge.version };
  const done = storage.settled && core.settled && bridge.settled;
  const base = { versions, storagePartition: storage.partition, done };
  if (storage.message !== undefined) return { ...base, step: 'RollingStorage', message: storage.message };
  // Core or the bridge still on an older version wait behind storage (or core): that is still the roll.
  if (input.core.version !== undefined && input.core.version !== target && !storage.settled) {
    // Every pod may be on the new revision already: name the one that still holds the roll.
    const holder = input.storage.pods.find((p) => !healthy(p));
    return {
      ...base,
      step: 'RollingStorage',
      message:
        `rolling to ${target}: core waits until every storage pod is updated, ready and caught up` +
        (holder ? ` (waiting for ${waitingFor(holder)})` : ''),
    };
  }
  if (core.message !== undefined) return { ...base, step: 'RollingCore', message: core.message };
  if (
    input.bridge.enabled &&
    input.bridge.version !== undefined &&
    input.bridge.version !== target &&
    !core.settled
  )
    return {
      ...base,
      step: 'RollingCore',
      message: `rolling to ${target}: the bridge waits until every core pod is updated and ready`,
    };
  if (bridge.message !== undefined) return { ...base, step: 'RollingBridge', message: bridge.message };
  return base;
}
