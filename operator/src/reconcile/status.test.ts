import { describe, expect, it } from '@jest/globals';
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { dsmClusterSpecSchema, type DSMCluster, type DSMClusterSpecInput } from '@dsm/cdk8s';
import type { RolloutPlan } from './rollout.js';
import {
  computeStatus,
  invalidSpecStatus,
  phaseOf,
  secretNames,
  statusChanged,
  type StatusInput,
} from './status.js';
import type { PodFact } from './workloads.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:10:00.000Z';

const cluster = (spec: Partial<DSMClusterSpecInput> = {}, generation = 1): DSMCluster => ({
  apiVersion: 'dsm.io/v1alpha1',
  kind: 'DSMCluster',
  metadata: { name: 'demo', namespace: 'ns', uid: 'u', generation },
  spec: dsmClusterSpecSchema.parse({ version: '1.0.0', ...spec }),
});

const sts = (name: string, replicas: number, version = '1.0.0'): V1StatefulSet => ({
  metadata: { name, generation: 1 },
  spec: {
    replicas,
    serviceName: `${name}-headless`,
    selector: {
      matchLabels: { 'dsm.io/cluster': 'demo', 'app.kubernetes.io/component': name.split('-')[1]! },
    },
    template: { metadata: { labels: { 'app.kubernetes.io/version': version } } },
  },
  status: { replicas, observedGeneration: 1, updateRevision: 'r1', currentRevision: 'r1' },
});
const pods = (prefix: string, count: number, ready: (i: number) => boolean = () => true): PodFact[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-${i}`,
    ordinal: i,
    exists: true,
    ready: ready(i),
    updated: true,
    state: ready(i) ? 'ready' : 'Pending',
  }));
const rollout = (over: Partial<RolloutPlan> = {}): RolloutPlan => ({
  versions: { storage: '1.0.0', core: '1.0.0', bridge: '1.0.0' },
  storagePartition: 0,
  done: true,
  ...over,
});
const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  cluster: cluster(),
  now: T0,
  core: { workload: sts('demo-core', 1), pods: pods('demo-core', 1) },
  storage: { workload: sts('demo-storage', 2), pods: pods('demo-storage', 2) },
  bridge: { workload: undefined },
  catchUp: { caughtUp: new Set(['demo-storage-0', 'demo-storage-1']), gaps: new Map() },
  rollout: rollout(),
  scale: { replicas: 2 },
  ...over,
});
const condition = (status: ReturnType<typeof computeStatus>, type: string) =>
  status.conditions?.find((c) => c.type === type);

describe('computeStatus', () => {
  it('a ready cluster: every condition, counts, endpoints, printer strings, scale fields and secrets', () => {
    const status = computeStatus(input());
    expect(status).toEqual({
      observedGeneration: 1,
      phase: 'Ready',
      version: '1.0.0',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'AllComponentsReady',
          message: 'storage, core and no bridge (disabled) are ready',
          observedGeneration: 1,
          lastTransitionTime: T0,
        },
        {
          type: 'Progressing',
          status: 'False',
          reason: 'Converged',
          message: 'every component runs 1.0.0 with the replicas the spec asks for',
          observedGeneration: 1,
          lastTransitionTime: T0,
        },
        {
          type: 'Degraded',
          status: 'False',
          reason: 'AsExpected',
          message: 'nothing needs attention',
          observedGeneration: 1,
          lastTransitionTime: T0,
        },
        {
          type: 'CoreReady',
          status: 'True',
          reason: 'AllReplicasReady',
          message: '1/1 core pods ready',
          observedGeneration: 1,
          lastTransitionTime: T0,
        },
        {
          type: 'StorageReady',
          status: 'True',
          reason: 'AllReplicasReady',
          message: '2/2 storage pods ready and caught up with their peers',
          observedGeneration: 1,
          lastTransitionTime: T0,
        },
        {
          type: 'BridgeReady',
          status: 'True',
          reason: 'BridgeDisabled',
          message: 'the bridge is disabled (spec.bridge.enabled is false)',
          observedGeneration: 1,
          lastTransitionTime: T0,
        },
      ],
      core: {
        replicas: 1,
        readyReplicas: 1,
        updatedReplicas: 1,
        ready: '1/1',
        endpoints: ['demo-core.ns.svc:7545'],
      },
      storage: {
        replicas: 2,
        readyReplicas: 2,
        updatedReplicas: 2,
        ready: '2/2',
        endpoints: [
          'demo-storage-0.demo-storage-headless.ns.svc:8765',
          'demo-storage-1.demo-storage-headless.ns.svc:8765',
        ],
      },
      bridge: { enabled: false, replicas: 0, readyReplicas: 0, updatedReplicas: 0, ready: '', endpoints: [] },
      replicas: 2,
      selector: 'dsm.io/cluster=demo,app.kubernetes.io/component=storage',
      secrets: {
        adminToken: 'demo-admin-token',
        apiToken: 'demo-api-token',
        keystoreKey: 'demo-keystore-key',
      },
    });
  });

  it('pods not ready: WaitingForPods naming each pod and its state', () => {
    const status = computeStatus(
      input({ storage: { workload: sts('demo-storage', 2), pods: pods('demo-storage', 2, (i) => i === 0) } }),
    );
    expect(condition(status, 'StorageReady')).toMatchObject({
      status: 'False',
      reason: 'WaitingForPods',
      message: '1/2 storage pods ready; waiting for demo-storage-1 (Pending)',
    });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'WaitingForPods' });
    expect(condition(status, 'Progressing')).toMatchObject({ status: 'True', reason: 'WaitingForPods' });
    expect(status.phase).toBe('Progressing');
    expect(status.storage?.ready).toBe('1/2');
  });

  it('ready but not caught up: StorageCatchingUp with the gap; storage readyReplicas counts caught-up pods', () => {
    const status = computeStatus(
      input({
        catchUp: {
          caughtUp: new Set(['demo-storage-0']),
          gaps: new Map([['demo-storage-1', 'demo-storage-1 is 40 log entries behind demo-storage-0']]),
        },
      }),
    );
    expect(condition(status, 'StorageReady')).toMatchObject({
      status: 'False',
      reason: 'StorageCatchingUp',
      message:
        '1/2 storage pods caught up with their peers: demo-storage-1 is 40 log entries behind demo-storage-0',
    });
    expect(status.storage).toMatchObject({ readyReplicas: 1, ready: '1/2' });
  });

  it('missing workloads are named', () => {
    const status = computeStatus(
      input({
        cluster: cluster({
          bridge: {
            enabled: true,
            rpcUrl: 'http://evm:8545',
            chainId: 1,
            contractAddress: '0x' + '1'.repeat(40),
            signerKeySecret: { name: 's' },
          },
        }),
        core: { workload: undefined, pods: [] },
      }),
    );
    expect(condition(status, 'CoreReady')?.message).toBe('the core StatefulSet demo-core does not exist yet');
    expect(condition(status, 'BridgeReady')?.message).toBe(
      'the bridge Deployment demo-bridge does not exist yet',
    );
    expect(status.bridge).toMatchObject({
      enabled: true,
      replicas: 1,
      ready: '0/1',
      endpoints: ['demo-bridge.ns.svc:8768'],
    });
  });

  it('an enabled, ready bridge', () => {
    const deploy: V1Deployment = {
      metadata: { generation: 1 },
      spec: {
        replicas: 1,
        selector: {},
        template: { metadata: { labels: { 'app.kubernetes.io/version': '1.0.0' } } },
      },
      status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1 },
    };
    const status = computeStatus(
      input({
        cluster: cluster({
          bridge: {
            enabled: true,
            rpcUrl: 'http://evm:8545',
            chainId: 1,
            contractAddress: '0x' + '1'.repeat(40),
            signerKeySecret: { name: 's' },
          },
        }),
        bridge: { workload: deploy },
      }),
    );
    expect(condition(status, 'BridgeReady')).toMatchObject({ status: 'True', reason: 'AllReplicasReady' });
    expect(status.bridge).toMatchObject({ readyReplicas: 1, updatedReplicas: 1, ready: '1/1' });
  });

  it('a roll: Progressing with the step; version stays the previous one until done', () => {
    const before = computeStatus(input());
    const status = computeStatus(
      input({
        cluster: { ...cluster({ version: '1.1.0' }, 2), status: before },
        now: T1,
        rollout: rollout({
          done: false,
          step: 'RollingStorage',
          message: 'rolling storage from 1.0.0 to 1.1.0',
        }),
      }),
    );
    expect(condition(status, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'RollingStorage',
      message: 'rolling storage from 1.0.0 to 1.1.0',
      lastTransitionTime: T1,
      observedGeneration: 2,
    });
    expect(condition(status, 'Ready')?.lastTransitionTime).toBe(T0);
    expect(status.version).toBe('1.0.0');
    expect(status.storage?.updatedReplicas).toBe(0);
    expect(status.phase).toBe('Progressing');
  });

  it('storage pods refusing the derived peer token: Degraded PeerTokenMismatch saying what to do', () => {
    const status = computeStatus(
      input({
        peerTokenRefusedBy: ['demo-storage-0', 'demo-storage-1'],
        scale: { replicas: 2, refused: { pods: ['demo-storage-1'], message: 'not removing' } },
      }),
    );
    expect(condition(status, 'Degraded')).toMatchObject({ status: 'True', reason: 'PeerTokenMismatch' });
    const message = condition(status, 'Degraded')!.message;
    expect(message).toContain('storage pods demo-storage-0, demo-storage-1 refuse the peer token');
    expect(message).toContain('Delete the Secret demo-peer-token');
    expect(message).toMatch(/creates it again .* rolls the storage pods/);
    expect(status.phase).toBe('Degraded');
    expect(condition(computeStatus(input({ peerTokenRefusedBy: [] })), 'Degraded')).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
    });
  });

  it('objects the apiserver refused: Degraded ApplyFailed naming each, with what to do about a 403', () => {
    const refused = [
      {
        kind: 'PersistentVolumeClaim',
        name: 'demo-bridge-data',
        code: 403,
        message: 'persistentvolumeclaims "demo-bridge-data" is forbidden: ... cannot patch resource',
      },
      { kind: 'Service', name: 'demo-core', code: 422, message: 'spec.ports[0].port: Invalid value' },
    ];
    const status = computeStatus(input({ applyRefused: refused, peerTokenRefusedBy: ['demo-storage-0'] }));
    // Before the peer token: nothing else can be right while objects are refused.
    expect(condition(status, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    const message = condition(status, 'Degraded')!.message;
    expect(message).toContain(
      'the apiserver refused PersistentVolumeClaim demo-bridge-data (HTTP 403): persistentvolumeclaims',
    );
    expect(message).toContain('the apiserver refused Service demo-core (HTTP 422): spec.ports[0].port');
    expect(message).toContain("The operator's ServiceAccount lacks that permission");
    expect(status.phase).toBe('Degraded');
    // Without a 403 no word about permissions.
    const invalid = computeStatus(input({ applyRefused: [refused[1]!] }));
    expect(condition(invalid, 'Degraded')!.message).not.toContain('ServiceAccount');
  });

  it('a refused scale-down: Degraded and Progressing ScaleDownRefused with the message', () => {
    const message = 'not removing storage pod demo-storage-2: ...';
    const status = computeStatus(
      input({
        cluster: cluster({ storage: { replicas: 2 } }),
        storage: { workload: sts('demo-storage', 3), pods: pods('demo-storage', 3) },
        catchUp: {
          caughtUp: new Set(['demo-storage-0', 'demo-storage-1', 'demo-storage-2']),
          gaps: new Map(),
        },
        scale: { replicas: 3, direction: 'down', refused: { pods: ['demo-storage-2'], message } },
      }),
    );
    expect(condition(status, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ScaleDownRefused',
      message,
    });
    expect(condition(status, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'ScaleDownRefused',
      message,
    });
    expect(status.phase).toBe('Degraded');
    expect(status.replicas).toBe(3);
    expect(status.storage?.replicas).toBe(2);
  });

  it('a scale-down in progress and a scale-up waiting for new pods', () => {
    const down = computeStatus(
      input({
        storage: { workload: sts('demo-storage', 3), pods: pods('demo-storage', 2) },
        scale: { replicas: 2, direction: 'down' },
      }),
    );
    expect(condition(down, 'Progressing')).toMatchObject({
      reason: 'ScalingStorageDown',
      message: 'removing storage pods down to 2 (3 now)',
    });
    const up = computeStatus(
      input({
        storage: { workload: sts('demo-storage', 3), pods: pods('demo-storage', 3, (i) => i < 2) },
        scale: { replicas: 3, direction: 'up' },
      }),
    );
    expect(condition(up, 'Progressing')).toMatchObject({
      reason: 'ScalingStorageUp',
      message: '2/3 storage pods ready; waiting for demo-storage-2 (Pending)',
    });
  });

  it('keeps lastTransitionTime across recomputations and writes nothing when nothing changed', () => {
    const first = computeStatus(input());
    const again = computeStatus(input({ cluster: { ...cluster(), status: first }, now: T1 }));
    expect(again).toEqual(first);
    expect(statusChanged(first, again)).toBe(false);
    expect(statusChanged(undefined, first)).toBe(true);
    const flipped = computeStatus(
      input({
        cluster: { ...cluster(), status: first },
        now: T1,
        core: { workload: sts('demo-core', 1), pods: pods('demo-core', 1, () => false) },
      }),
    );
    expect(condition(flipped, 'CoreReady')).toMatchObject({ status: 'False', lastTransitionTime: T1 });
    expect(condition(flipped, 'StorageReady')?.lastTransitionTime).toBe(T0);
    expect(statusChanged(first, flipped)).toBe(true);
  });

  it('user-named Secrets are reported by their names', () => {
    expect(secretNames(cluster({ secrets: { adminToken: { name: 'mine' } } }))).toEqual({
      adminToken: 'mine',
      apiToken: 'demo-api-token',
      keystoreKey: 'demo-keystore-key',
    });
  });
});

describe('invalidSpecStatus', () => {
  it('Degraded and not Ready with the validation message; the rest of the status stays', () => {
    const before = computeStatus(input());
    const status = invalidSpecStatus(
      { ...cluster({}, 4), status: before },
      'storage.replicas: Too big: expected number to be <=64',
      T1,
    );
    expect(condition(status, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      message:
        'the spec is invalid, nothing was changed: storage.replicas: Too big: expected number to be <=64',
      observedGeneration: 4,
      lastTransitionTime: T1,
    });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(condition(status, 'StorageReady')).toMatchObject({ status: 'True', lastTransitionTime: T0 });
    expect(status.phase).toBe('Degraded');
    expect(status.observedGeneration).toBe(4);
    expect(status.storage).toEqual(before.storage);
  });
});

describe('phaseOf', () => {
  const c = (type: 'Ready' | 'Progressing' | 'Degraded', status: 'True' | 'False') => ({
    type,
    status,
    reason: 'R',
    message: '',
    lastTransitionTime: T0,
  });
  it('Degraded over Progressing over Ready', () => {
    expect(phaseOf([c('Ready', 'True'), c('Progressing', 'True'), c('Degraded', 'True')])).toBe('Degraded');
    expect(phaseOf([c('Ready', 'True'), c('Progressing', 'True'), c('Degraded', 'False')])).toBe(
      'Progressing',
    );
    expect(phaseOf([c('Ready', 'True'), c('Progressing', 'False'), c('Degraded', 'False')])).toBe('Ready');
    expect(phaseOf([])).toBe('Progressing');
  });
});
