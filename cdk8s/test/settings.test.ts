// The DSM_CONFIG file of each component is a valid configuration of its service (the service's own zod
// schema, with what the pod's environment adds), and the pods find each other at the addresses it lists.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { loadBridgeConfig } from '@dsm/bridge/config';
import { loadCoreConfig } from '@dsm/core/config';
import { loadStorageConfig } from '@dsm/storage/config';
import { desiredObjects, type KubeObject } from '@dsm/cdk8s';
import { ALL_CAPABILITIES, EXAMPLES, exampleCluster, find, podTemplateOf } from './helpers.js';

const configOf = (objects: KubeObject[], name: string) =>
  JSON.parse((find(objects, 'ConfigMap', name).data as Record<string, string>)['config.json']!) as Record<
    string,
    unknown
  >;

const digestOf = (objects: KubeObject[], kind: string, name: string) =>
  podTemplateOf(find(objects, kind, name))!.metadata!.annotations!['dsm.io/config-digest'];

const dir = mkdtempSync(join(tmpdir(), 'dsm-cdk8s-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file as the pod mounts it, loaded by the service's own loader (DSM_CONFIG, the pod's env). */
function load<T>(
  objects: KubeObject[],
  name: string,
  loader: (env: Record<string, string>) => T,
  env = {},
): T {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(configOf(objects, name)));
  return loader({ DSM_CONFIG: file, ...env });
}

describe('settings files', () => {
  it.each(EXAMPLES)('%s: each loads with its service’s own config loader', (example) => {
    const cluster = exampleCluster(example);
    const objects = desiredObjects(cluster, { capabilities: ALL_CAPABILITIES });
    const n = cluster.metadata.name;
    const core = load(objects, `${n}-core-config`, loadCoreConfig);
    expect(core).toMatchObject({
      apiPort: 7545,
      p2pPort: 8765,
      keystoreKeyFile: '/run/secrets/dsm/keystore-key',
    });
    const storage = load(objects, `${n}-storage-config`, loadStorageConfig, {
      DSM_STORAGE_NODE_ID: `${n}-storage-0`,
      DSM_STORAGE_ADVERTISE: `${n}-storage-0.${n}-storage-headless:8765`,
    });
    expect(storage).toMatchObject({ nodeId: `${n}-storage-0`, port: 8765, replicationFactor: 2 });
    if (cluster.spec.bridge.enabled) {
      const bridge = load(objects, `${n}-bridge-config`, loadBridgeConfig);
      expect(bridge).toMatchObject({
        port: 8768,
        dsmNode: `${n}-core:7545`,
        chainId: cluster.spec.bridge.chainId,
      });
    }
  });

  it('lists every storage pod for the core and every core pod for the storage nodes (production: 3 and 2)', () => {
    const objects = desiredObjects(exampleCluster('dsmcluster-production'), {
      capabilities: ALL_CAPABILITIES,
    });
    const core = configOf(objects, 'production-core-config');
    const storage = configOf(objects, 'production-storage-config');
    const storagePods = [0, 1, 2].map((i) => `production-storage-${i}.production-storage-headless:8765`);
    const corePods = [0, 1].map((i) => `production-core-${i}.production-core-headless:8765`);
    expect(core.storageNodes).toEqual(storagePods);
    expect(core.corePeers).toEqual(corePods);
    expect(storage.syncWith).toEqual(storagePods);
    expect(storage.notify).toEqual(corePods);
    expect(storage.replicationFactor).toBe(2);
  });

  it('advertises each storage pod by the name its peers list (the node drops itself from syncWith)', () => {
    const objects = desiredObjects(exampleCluster('dsmcluster'), { capabilities: ALL_CAPABILITIES });
    const env = podTemplateOf(find(objects, 'StatefulSet', 'devnet-storage'))!.spec.containers[0]!.env!;
    expect(env).toEqual([
      { name: 'DSM_CONFIG', value: '/etc/dsm/config.json' },
      { name: 'DSM_STORAGE_NODE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'DSM_STORAGE_ADVERTISE', value: '$(DSM_STORAGE_NODE_ID).devnet-storage-headless:8765' },
    ]);
  });

  it('rolls the pods when a setting changes, but not when storage scales (peers learn that by admin API)', () => {
    const base = exampleCluster('dsmcluster-production');
    const before = desiredObjects(base, { capabilities: ALL_CAPABILITIES });
    const changed = desiredObjects(
      { ...base, spec: { ...base.spec, storage: { ...base.spec.storage, syncIntervalMs: 2000 } } },
      { capabilities: ALL_CAPABILITIES },
    );
    const scaled = desiredObjects(
      { ...base, spec: { ...base.spec, storage: { ...base.spec.storage, replicas: 5 } } },
      { capabilities: ALL_CAPABILITIES },
    );
    const storage = ['StatefulSet', 'production-storage'] as const;
    const core = ['StatefulSet', 'production-core'] as const;
    expect(digestOf(changed, ...storage)).not.toBe(digestOf(before, ...storage));
    expect(digestOf(scaled, ...storage)).toBe(digestOf(before, ...storage));
    expect(digestOf(scaled, ...core)).toBe(digestOf(before, ...core));
    expect((find(scaled, ...storage).spec as { replicas: number }).replicas).toBe(5);
  });

  it('runs the version the operator says each component runs now, by the image repository of the spec', () => {
    const objects = desiredObjects(exampleCluster('dsmcluster-production'), {
      capabilities: ALL_CAPABILITIES,
      versions: { storage: '0.2.0', core: '0.1.0', bridge: '0.1.0' },
    });
    const image = (name: string) => podTemplateOf(find(objects, 'StatefulSet', name))!.spec.containers[0]!;
    expect(image('production-storage')).toMatchObject({
      image: 'registry.example.com/dsm/dsm-storage:0.2.0',
      imagePullPolicy: 'IfNotPresent',
    });
    expect(image('production-core')).toMatchObject({ image: 'registry.example.com/dsm/dsm-core:0.1.0' });
  });
});

describe('scheduling, budgets and retention', () => {
  const objects = desiredObjects(exampleCluster('dsmcluster-production'), { capabilities: ALL_CAPABILITIES });
  const pod = podTemplateOf(find(objects, 'StatefulSet', 'production-storage'))!.spec as Record<
    string,
    unknown
  >;

  it('gives a spread constraint without labelSelector the component’s, and keeps the user’s scheduling', () => {
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: {
          matchLabels: { 'dsm.io/cluster': 'production', 'app.kubernetes.io/component': 'storage' },
        },
      },
    ]);
    expect(pod.nodeSelector).toEqual({ 'dsm.io/pool': 'dsm' });
    expect(pod.priorityClassName).toBe('dsm-critical');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
  });

  it('keeps a storage node drainable only above replicationFactor', () => {
    expect(find(objects, 'PodDisruptionBudget', 'production-storage').spec as object).toMatchObject({
      maxUnavailable: 1,
    });
    const devnet = desiredObjects(exampleCluster('dsmcluster'), { capabilities: ALL_CAPABILITIES });
    expect(find(devnet, 'PodDisruptionBudget', 'devnet-storage').spec as object).toMatchObject({
      minAvailable: 2,
    });
  });

  it('keeps (Retain) or deletes the volumes with the cluster and on scale-down as reclaimPolicy says', () => {
    const spec = find(objects, 'StatefulSet', 'production-storage').spec as Record<string, unknown>;
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    const template = (spec.volumeClaimTemplates as { metadata: { labels: Record<string, string> } }[])[0]!;
    expect(template.metadata.labels).not.toHaveProperty('app.kubernetes.io/version');
  });
});

/** The VOLUME paths each image declares (the Dockerfile's stage of that name). */
function imageVolumes(stage: 'core' | 'storage' | 'bridge'): string[] {
  const dockerfile = readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8');
  const from = dockerfile.slice(dockerfile.indexOf(`FROM app AS ${stage}\n`));
  const body = from.slice(0, from.indexOf('\nFROM ', 1));
  return JSON.parse(/^VOLUME (\[.*\])$/m.exec(body)![1]!) as string[];
}

describe('volumes', () => {
  // containerd gives each image VOLUME that is not itself a mount an anonymous volume of the container's
  // own: state written under one is lost with the container.
  it.each([
    ['core', 'StatefulSet', 'bridged-core'],
    ['storage', 'StatefulSet', 'bridged-storage'],
    ['bridge', 'Deployment', 'bridged-bridge'],
  ] as const)(
    '%s: the volume is mounted at an image VOLUME, no other VOLUME under it, every folder in it',
    (component, kind, name) => {
      const objects = desiredObjects(exampleCluster('dsmcluster-bridge'), { capabilities: ALL_CAPABILITIES });
      const container = podTemplateOf(find(objects, kind, name))!.spec.containers[0]!;
      const mount = container.volumeMounts!.find((m) => m.name === 'data')!.mountPath;
      const volumes = imageVolumes(component);
      expect(volumes).toContain(mount);
      expect(volumes.filter((v) => v.startsWith(`${mount}/`))).toEqual([]);
      const config = configOf(objects, `${name}-config`);
      const folders = ['dataDir', 'configDir', 'policiesDir'].flatMap((key) =>
        typeof config[key] === 'string' ? [config[key]] : [],
      );
      expect(folders.length).toBeGreaterThanOrEqual(2);
      for (const folder of folders) expect(folder === mount || folder.startsWith(`${mount}/`)).toBe(true);
    },
  );
});
