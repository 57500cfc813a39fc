// Properties of desiredObjects over generated clusters (fast-check): pure and deterministic, every object
// labelled and owned, names within Kubernetes' limits, no secret in an environment variable.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  ANNOTATIONS,
  desiredObjects,
  dsmClusterSpecSchema,
  generatedSecrets,
  LABELS,
  MAX_CLUSTER_NAME,
  type DSMCluster,
  type DSMClusterSpecInput,
  type KubeObject,
} from '@dsm/cdk8s';
import { counterRandom, podTemplateOf } from './helpers.js';

const nameArb = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'),
    fc.string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'),
      maxLength: MAX_CLUSTER_NAME - 2,
    }),
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
  )
  .map(([first, middle, last]) => `${first}${middle}${last}`);

const specArb: fc.Arbitrary<DSMClusterSpecInput> = fc
  .record({
    storageReplicas: fc.integer({ min: 1, max: 64 }),
    rf: fc.integer({ min: 1, max: 16 }),
    coreReplicas: fc.integer({ min: 1, max: 32 }),
    bridge: fc.boolean(),
    networkPolicies: fc.boolean(),
    reclaim: fc.constantFrom('Retain' as const, 'Delete' as const),
    userSecrets: fc.boolean(),
    version: fc
      .stringMatching(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/)
      .filter((v) => v !== 'latest'),
  })
  .map((r) => ({
    version: r.version,
    core: { replicas: r.coreReplicas, volume: { reclaimPolicy: r.reclaim } },
    storage: {
      replicas: Math.max(r.storageReplicas, r.rf),
      replicationFactor: r.rf,
      volume: { reclaimPolicy: r.reclaim },
    },
    bridge: r.bridge
      ? {
          enabled: true,
          rpcUrl: 'https://rpc.example',
          chainId: 1,
          contractAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
          signerKeySecret: { name: 'evm' },
          volume: { reclaimPolicy: r.reclaim },
        }
      : { enabled: false },
    networkPolicies: { enabled: r.networkPolicies },
    secrets: r.userSecrets
      ? { adminToken: { name: 'a' }, apiToken: { name: 'b' }, keystoreKey: { name: 'k' } }
      : {},
  }));

const clusterArb = fc
  .record({ name: nameArb, spec: specArb, uid: fc.option(fc.uuid(), { nil: undefined }) })
  .map(({ name, spec, uid }): DSMCluster => ({
    apiVersion: 'dsm.io/v1alpha1',
    kind: 'DSMCluster',
    metadata: { name, namespace: 'ns', ...(uid === undefined ? {} : { uid }) },
    spec: dsmClusterSpecSchema.parse(spec),
  }));

const options = {
  capabilities: { serviceMonitor: true, prometheusRule: true },
  operatorNamespace: 'dsm-system',
};
const all = (cluster: DSMCluster): KubeObject[] => [
  ...generatedSecrets(cluster, counterRandom()),
  ...desiredObjects(cluster, options),
];
const retained = (o: KubeObject) => o.metadata.annotations?.[ANNOTATIONS.reclaimPolicy] === 'Retain';

describe('desiredObjects', () => {
  it('is deterministic: the same cluster twice gives equal objects in the same order', () => {
    fc.assert(
      fc.property(clusterArb, (cluster) => {
        expect(desiredObjects(structuredClone(cluster), options)).toEqual(desiredObjects(cluster, options));
      }),
      { numRuns: 40 },
    );
  });

  it('labels every object with its cluster, names it, puts it in the namespace; owned when the cluster has a uid', () => {
    fc.assert(
      fc.property(clusterArb, (cluster) => {
        for (const object of all(cluster)) {
          const { metadata } = object;
          expect(metadata.labels?.[LABELS.cluster]).toBe(cluster.metadata.name);
          expect(metadata.labels?.[LABELS.managedBy]).toBe('dsm-operator');
          expect(metadata.labels?.[LABELS.partOf]).toBe('dsm');
          expect(metadata.namespace).toBe('ns');
          expect(metadata.name.length).toBeGreaterThan(0);
          const expected =
            cluster.metadata.uid === undefined || retained(object)
              ? undefined
              : [
                  {
                    apiVersion: 'dsm.io/v1alpha1',
                    kind: 'DSMCluster',
                    name: cluster.metadata.name,
                    uid: cluster.metadata.uid,
                    controller: true,
                    blockOwnerDeletion: true,
                  },
                ];
          expect([object.kind, metadata.name, metadata.ownerReferences]).toEqual([
            object.kind,
            metadata.name,
            expected,
          ]);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps names and label values within 63 characters, and (kind, name) unique', () => {
    fc.assert(
      fc.property(clusterArb, (cluster) => {
        const objects = all(cluster);
        const keys = objects.map((o) => `${o.kind}/${o.metadata.name}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const object of objects) {
          if (object.kind === 'Service' || object.kind === 'StatefulSet') {
            expect(object.metadata.name.length).toBeLessThanOrEqual(63);
          }
          const template = podTemplateOf(object);
          const labels = [object.metadata.labels ?? {}, template?.metadata?.labels ?? {}];
          for (const value of labels.flatMap((l) => Object.values(l)))
            expect(value.length).toBeLessThanOrEqual(63);
          // The StatefulSet controller labels each pod with `<name>-<10-character hash>`.
          if (object.kind === 'StatefulSet') expect(object.metadata.name.length + 11).toBeLessThanOrEqual(63);
        }
        const replicas = cluster.spec.storage.replicas;
        expect(`${cluster.metadata.name}-storage-${replicas - 1}`.length).toBeLessThanOrEqual(63);
      }),
      { numRuns: 40 },
    );
  });

  it('puts no secret in an environment variable: no secretKeyRef, no generated value', () => {
    fc.assert(
      fc.property(clusterArb, (cluster) => {
        const values = generatedSecrets(cluster, counterRandom()).flatMap((s) =>
          Object.values(s.data as Record<string, string>).map((v) =>
            Buffer.from(v, 'base64').toString('utf8'),
          ),
        );
        for (const object of desiredObjects(cluster, options)) {
          const template = podTemplateOf(object);
          if (template === undefined) continue;
          for (const container of template.spec.containers) {
            for (const env of container.env ?? []) {
              expect(JSON.stringify(env)).not.toContain('secretKeyRef');
              for (const value of values) expect(JSON.stringify(env)).not.toContain(value);
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('owns a generated keystore key or bridge key only when its volumes are deleted with the cluster', () => {
    fc.assert(
      fc.property(clusterArb, (cluster) => {
        for (const secret of generatedSecrets(cluster, counterRandom())) {
          const name = secret.metadata.name;
          const policy = name.endsWith('-keystore-key')
            ? cluster.spec.core.volume.reclaimPolicy
            : name.endsWith('-bridge-dsm-key')
              ? cluster.spec.bridge.volume.reclaimPolicy
              : 'Delete';
          expect([name, retained(secret)]).toEqual([name, policy === 'Retain']);
        }
      }),
      { numRuns: 40 },
    );
  });
});
