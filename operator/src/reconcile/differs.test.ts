import { describe, expect, it } from '@jest/globals';
import { APPLIED_HASH, differs, firstDifference, stamp } from './differs.js';

const statefulSet = () => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'demo-storage', namespace: 'ns', labels: { 'dsm.io/cluster': 'demo' } },
  spec: {
    replicas: 2,
    template: {
      metadata: { labels: { app: 'storage' } },
      spec: {
        containers: [
          {
            name: 'storage',
            image: 'dsm-storage:1.0.0',
            args: ['--a', '--b'],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            ports: [{ containerPort: 8765, name: 'p2p' }],
            resources: { requests: { cpu: '0.5', memory: '1Gi' }, limits: { memory: 1073741824 } },
          },
        ],
      },
    },
    volumeClaimTemplates: [
      { metadata: { name: 'data' }, spec: { resources: { requests: { storage: '20Gi' } } } },
    ],
  },
});

/** What the apiserver returns for `statefulSet()`: defaults added, quantities canonical, list order kept. */
const liveOf = () => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: {
    name: 'demo-storage',
    namespace: 'ns',
    uid: 'u1',
    resourceVersion: '42',
    generation: 3,
    labels: { 'dsm.io/cluster': 'demo' },
    managedFields: [{ manager: 'dsm-operator', operation: 'Apply' }],
  },
  spec: {
    replicas: 2,
    podManagementPolicy: 'OrderedReady',
    revisionHistoryLimit: 10,
    template: {
      metadata: { labels: { app: 'storage' } },
      spec: {
        containers: [
          {
            name: 'storage',
            image: 'dsm-storage:1.0.0',
            args: ['--a', '--b'],
            env: [
              { name: 'A', value: '1' },
              { name: 'INJECTED', value: 'by a webhook' },
              { name: 'B', value: '2' },
            ],
            ports: [{ containerPort: 8765, name: 'p2p', protocol: 'TCP' }],
            resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
            terminationMessagePath: '/dev/termination-log',
            imagePullPolicy: 'IfNotPresent',
          },
        ],
        restartPolicy: 'Always',
        dnsPolicy: 'ClusterFirst',
      },
    },
    volumeClaimTemplates: [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '21474836480' } } },
        status: { phase: 'Pending' },
      },
    ],
  },
  status: { replicas: 2 },
});

describe('differs', () => {
  it('a live copy with defaults, other managers’ entries and canonical quantities matches', () => {
    expect(firstDifference(statefulSet(), liveOf())).toBeUndefined();
    expect(differs(statefulSet(), liveOf())).toBe(false);
  });

  it('a missing live object differs', () => {
    expect(differs(statefulSet(), undefined)).toBe(true);
  });

  it('names the first field that differs', () => {
    const live = liveOf();
    live.spec.replicas = 3;
    expect(firstDifference(statefulSet(), live)).toBe('spec.replicas');
  });

  it('a changed image, env value or quantity differs', () => {
    const image = liveOf();
    image.spec.template.spec.containers[0]!.image = 'dsm-storage:0.9.0';
    expect(firstDifference(statefulSet(), image)).toBe('spec.template.spec.containers[name=storage].image');

    const env = liveOf();
    env.spec.template.spec.containers[0]!.env[2]!.value = '3';
    expect(firstDifference(statefulSet(), env)).toBe(
      'spec.template.spec.containers[name=storage].env[name=B].value',
    );

    const size = liveOf();
    size.spec.volumeClaimTemplates[0]!.spec.resources.requests.storage = '10Gi';
    expect(firstDifference(statefulSet(), size)).toBe(
      'spec.volumeClaimTemplates[0].spec.resources.requests.storage',
    );
  });

  it('an entry of ours missing from an associative list differs', () => {
    const live = liveOf();
    live.spec.template.spec.containers[0]!.env = live.spec.template.spec.containers[0]!.env.filter(
      (e) => e.name !== 'A',
    );
    expect(firstDifference(statefulSet(), live)).toBe(
      'spec.template.spec.containers[name=storage].env[name=A]',
    );
  });

  it('positional lists must match in length and order', () => {
    const reordered = liveOf();
    reordered.spec.template.spec.containers[0]!.args = ['--b', '--a'];
    expect(differs(statefulSet(), reordered)).toBe(true);
    const longer = liveOf();
    longer.spec.template.spec.containers[0]!.args = ['--a', '--b', '--c'];
    expect(differs(statefulSet(), longer)).toBe(true);
  });

  it('quantities are compared by value only in resource maps', () => {
    const cm = (value: string) => ({ kind: 'ConfigMap', data: { size: value } });
    expect(differs(cm('1Gi'), cm('1073741824'))).toBe(true);
    const pvc = (value: string | number) => ({ spec: { resources: { requests: { storage: value } } } });
    expect(differs(pvc('1Gi'), pvc('1073741824'))).toBe(false);
    expect(differs(pvc('1Gi'), pvc(1073741824))).toBe(false);
    expect(differs(pvc('1Gi'), pvc('1G'))).toBe(true);
    const quota = { spec: { hard: { pods: '10' } } };
    expect(differs(quota, { spec: { hard: { pods: '1e1' } } })).toBe(false);
  });

  it('empty maps, empty lists and nulls of desired match absent live fields', () => {
    const desired = {
      metadata: { annotations: {}, creationTimestamp: null },
      spec: { tolerations: [], selector: {} },
    };
    expect(differs(desired, { metadata: {}, spec: {} })).toBe(false);
    expect(differs({ spec: { tolerations: [] } }, { spec: { tolerations: [{ key: 'x' }] } })).toBe(true);
  });

  it('a scalar where live has an object (or the reverse) differs', () => {
    expect(differs({ spec: { a: { b: 1 } } }, { spec: { a: 'x' } })).toBe(true);
    expect(differs({ spec: { a: 'x' } }, { spec: { a: { b: 1 } } })).toBe(true);
    expect(differs({ spec: { a: [1] } }, { spec: { a: { 0: 1 } } })).toBe(true);
  });

  it('types are not coerced: 8765 is not "8765", true is not "true"', () => {
    expect(differs({ spec: { port: 8765 } }, { spec: { port: '8765' } })).toBe(true);
    expect(differs({ spec: { on: true } }, { spec: { on: 'true' } })).toBe(true);
  });

  it('Secret stringData is compared with the base64 data the apiserver stores', () => {
    const desired = { kind: 'Secret', stringData: { token: 'abc' } };
    expect(differs(desired, { kind: 'Secret', data: { token: Buffer.from('abc').toString('base64') } })).toBe(
      false,
    );
    expect(differs(desired, { kind: 'Secret', data: { token: Buffer.from('abd').toString('base64') } })).toBe(
      true,
    );
    expect(differs(desired, { kind: 'Secret', data: {} })).toBe(true);
  });
});

describe('stamp', () => {
  it('is deterministic and independent of key order', () => {
    const a = stamp({ metadata: { name: 'x' }, spec: { a: 1, b: 2 } });
    const b = stamp({ spec: { b: 2, a: 1 }, metadata: { name: 'x' } });
    expect(a.metadata.annotations[APPLIED_HASH]).toMatch(/^[0-9a-f]{32}$/);
    expect(a.metadata.annotations[APPLIED_HASH]).toBe(b.metadata.annotations[APPLIED_HASH]);
  });

  it('stamping twice gives the same hash (the annotation is not hashed)', () => {
    const once = stamp({ metadata: { name: 'x', annotations: { keep: 'me' } }, spec: { a: 1 } });
    const twice = stamp(once);
    expect(twice).toEqual(once);
    expect(once.metadata.annotations.keep).toBe('me');
  });

  it('makes a removed field visible: desired without it no longer matches live applied with it', () => {
    const before = stamp({ metadata: { name: 'x' }, spec: { a: 1, b: 2 } });
    const after = stamp({ metadata: { name: 'x' }, spec: { a: 1 } });
    // Without the hash, `after` would be a subset of what was applied before and never be applied.
    expect(differs({ spec: { a: 1 } }, before)).toBe(false);
    expect(differs(after, before)).toBe(true);
    expect(differs(after, { ...after, status: {} })).toBe(false);
  });
});
