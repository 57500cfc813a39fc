import { describe, expect, it } from '@jest/globals';
import { planRollout, type RolloutInput, type StorageFacts } from './rollout.js';

type Pod = StorageFacts['pods'][number];
const pod = (ordinal: number, over: Partial<Pod> = {}): Pod => ({
  name: `demo-storage-${ordinal}`,
  ordinal,
  exists: true,
  ready: true,
  updated: true,
  caughtUp: true,
  state: 'ready',
  ...over,
});
const pods = (count: number, over: (i: number) => Partial<Pod> = () => ({})) =>
  Array.from({ length: count }, (_, i) => pod(i, over(i)));
const settledCore = { version: '1.0.0', rolling: false, ready: true };
const input = (over: Partial<RolloutInput> = {}): RolloutInput => ({
  target: '1.0.0',
  storage: { version: '1.0.0', partition: 0, observed: true, pods: pods(3) },
  core: settledCore,
  bridge: { enabled: true, ...settledCore },
  ...over,
});

describe('planRollout', () => {
  it('a fresh cluster creates every component at the target version at once', () => {
    const plan = planRollout(
      input({
        storage: { version: undefined, partition: undefined, observed: false, pods: [] },
        core: { version: undefined, rolling: false, ready: false },
        bridge: { enabled: true, version: undefined, rolling: false, ready: false },
      }),
    );
    expect(plan).toEqual({
      versions: { storage: '1.0.0', core: '1.0.0', bridge: '1.0.0' },
      storagePartition: 0,
      done: false,
    });
  });

  it('a settled cluster at the target version is done with nothing to roll', () => {
    expect(planRollout(input())).toEqual({
      versions: { storage: '1.0.0', core: '1.0.0', bridge: '1.0.0' },
      storagePartition: 0,
      done: true,
    });
  });

  it('a new version starts with the highest storage pod only; core and the bridge stay', () => {
    const plan = planRollout(input({ target: '1.1.0' }));
    expect(plan.versions).toEqual({ storage: '1.1.0', core: '1.0.0', bridge: '1.0.0' });
    expect(plan.storagePartition).toBe(2);
    expect(plan.step).toBe('RollingStorage');
    expect(plan.message).toBe(
      'rolling storage from 1.0.0 to 1.1.0, one pod at a time: starting with demo-storage-2',
    );
  });

  it('the partition waits while the updated pod is not ready, then not caught up', () => {
    const notReady = planRollout(
      input({
        target: '1.1.0',
        core: settledCore,
        storage: {
          version: '1.1.0',
          partition: 2,
          observed: true,
          pods: pods(3, (i) => (i === 2 ? { ready: false, state: 'Pending' } : { updated: false })),
        },
      }),
    );
    expect(notReady.storagePartition).toBe(2);
    expect(notReady.versions.core).toBe('1.0.0');
    expect(notReady.message).toBe(
      'rolling storage to 1.1.0 (1 of 3 pods updated): waiting for demo-storage-2 to be ready (Pending)',
    );
    const lagging = planRollout(
      input({
        target: '1.1.0',
        storage: {
          version: '1.1.0',
          partition: 2,
          observed: true,
          pods: pods(3, (i) => (i === 2 ? { caughtUp: false } : { updated: false })),
        },
      }),
    );
    expect(lagging.storagePartition).toBe(2);
    expect(lagging.message).toContain('waiting for demo-storage-2 to catch up with its peers');
  });

  it('moves the partition down by one once the pods above it are updated, ready and caught up', () => {
    const plan = planRollout(
      input({
        target: '1.1.0',
        storage: {
          version: '1.1.0',
          partition: 2,
          observed: true,
          pods: pods(3, (i) => ({ updated: i === 2 })),
        },
      }),
    );
    expect(plan.storagePartition).toBe(1);
    expect(plan.step).toBe('RollingStorage');
    expect(plan.message).toBe(
      'rolling storage to 1.1.0 (1 of 3 pods updated): waiting for demo-storage-1 to be recreated with the new version (ready)',
    );
  });

  it('holds the partition until the StatefulSet controller has seen the template', () => {
    const plan = planRollout(
      input({ target: '1.1.0', storage: { version: '1.1.0', partition: 2, observed: false, pods: pods(3) } }),
    );
    expect(plan.storagePartition).toBe(2);
    expect(plan.message).toContain('waiting for the StatefulSet controller');
  });

  it('core follows only once every storage pod is updated, ready and caught up; then the bridge after core', () => {
    const storageDone = { version: '1.1.0', partition: 0, observed: true, pods: pods(3) };
    const waitingCore = planRollout(
      input({
        target: '1.1.0',
        storage: { ...storageDone, pods: pods(3, (i) => (i === 0 ? { caughtUp: false } : {})) },
      }),
    );
    expect(waitingCore.versions.core).toBe('1.0.0');
    expect(waitingCore.step).toBe('RollingStorage');

    const coreStarts = planRollout(input({ target: '1.1.0', storage: storageDone }));
    expect(coreStarts.versions).toEqual({ storage: '1.1.0', core: '1.1.0', bridge: '1.0.0' });
    expect(coreStarts.step).toBe('RollingCore');

    const coreRolling = planRollout(
      input({
        target: '1.1.0',
        storage: storageDone,
        core: { version: '1.1.0', rolling: true, ready: true },
      }),
    );
    expect(coreRolling.versions.bridge).toBe('1.0.0');
    expect(coreRolling.step).toBe('RollingCore');

    const bridgeStarts = planRollout(
      input({
        target: '1.1.0',
        storage: storageDone,
        core: { version: '1.1.0', rolling: false, ready: true },
      }),
    );
    expect(bridgeStarts.versions.bridge).toBe('1.1.0');
    expect(bridgeStarts.step).toBe('RollingBridge');

    const done = planRollout(
      input({
        target: '1.1.0',
        storage: storageDone,
        core: { version: '1.1.0', rolling: false, ready: true },
        bridge: { enabled: true, version: '1.1.0', rolling: false, ready: true },
      }),
    );
    expect(done.done).toBe(true);
    expect(done.step).toBeUndefined();
  });

  it('a disabled bridge never holds the roll', () => {
    const plan = planRollout(
      input({
        target: '1.1.0',
        storage: { version: '1.1.0', partition: 0, observed: true, pods: pods(2) },
        core: { version: '1.1.0', rolling: false, ready: true },
        bridge: { enabled: false, version: undefined, rolling: false, ready: false },
      }),
    );
    expect(plan.done).toBe(true);
  });

  it('a version changed again mid-roll restarts from the highest pod', () => {
    const plan = planRollout(
      input({
        target: '1.2.0',
        storage: {
          version: '1.1.0',
          partition: 1,
          observed: true,
          pods: pods(3, (i) => ({ updated: i >= 1 })),
        },
      }),
    );
    expect(plan.versions.storage).toBe('1.2.0');
    expect(plan.storagePartition).toBe(2);
  });

  it('an unready pod without a version change is not a roll (readiness reports it)', () => {
    const plan = planRollout(
      input({
        storage: {
          version: '1.0.0',
          partition: 0,
          observed: true,
          pods: pods(3, (i) => ({ ready: i !== 1 })),
        },
      }),
    );
    expect(plan.step).toBeUndefined();
    expect(plan.done).toBe(false);
  });

  it('a partition beyond the pods (after a scale down) is clamped', () => {
    const plan = planRollout(
      input({ storage: { version: '1.0.0', partition: 5, observed: true, pods: pods(2) } }),
    );
    expect(plan.storagePartition).toBe(0);
  });
});
