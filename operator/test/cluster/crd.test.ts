/**
 * The DSMCluster CRD as the real apiserver serves it: what it refuses (schema types and bounds, unknown
 * fields under strict field validation, CEL rules on one object and transition rules between two), with
 * the messages a person reads; what it accepts (every example) with the defaults the zod schema promises;
 * `kubectl get dsm` printer columns, `kubectl explain`, and the scale subresource.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  dsmClusterSpecSchema,
  dsmClusterStatusSchema,
  readyOf,
  specSchema,
  type ConditionType,
  type DSMClusterStatus,
} from '@dsm/cdk8s';
import {
  deleteNamespace,
  freshNamespace,
  installCrd,
  kubeConfig,
  kubectl,
  refusal,
  waitFor,
} from '../../../e2e/cluster/kube.js';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLES = join(here, '../../../examples');
const API = { group: 'dsm.io', version: 'v1alpha1', plural: 'dsmclusters' } as const;

const custom = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
let namespace: string;

interface Cluster {
  apiVersion: string;
  kind: string;
  metadata: { name: string; generation?: number; [k: string]: unknown };
  spec: Record<string, unknown>;
  status?: DSMClusterStatus;
}

const cluster = (name: string, spec: Record<string, unknown>): Cluster => ({
  apiVersion: 'dsm.io/v1alpha1',
  kind: 'DSMCluster',
  metadata: { name },
  spec,
});

const create = (body: Cluster, fieldValidation?: 'Strict') =>
  custom.createNamespacedCustomObject({
    ...API,
    namespace,
    body,
    ...(fieldValidation ? { fieldValidation } : {}),
  }) as Promise<Cluster>;

const read = (name: string) =>
  custom.getNamespacedCustomObject({ ...API, namespace, name }) as Promise<Cluster>;

const mergePatch = (name: string, body: object) =>
  custom.patchNamespacedCustomObject(
    { ...API, namespace, name, body },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  ) as Promise<Cluster>;

/** The stderr of a kubectl command that must fail. */
async function kubectlRefusal(args: string[], input?: string): Promise<string> {
  try {
    await kubectl(args, input);
  } catch (error) {
    return (error as { stderr?: string }).stderr ?? String(error);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded where a refusal was expected`);
}

/** Messages of a refused create, one per `* ` line of the apiserver's "is invalid" text (or the one line). */
async function createRefused(body: Cluster): Promise<{ code: number; message: string }> {
  const { code, message } = await refusal(create(body));
  return { code, message };
}

/** Every cluster a test created goes again, so names can be reused. */
async function remove(name: string): Promise<void> {
  await custom.deleteNamespacedCustomObject({ ...API, namespace, name }).catch(() => undefined);
  await waitFor(`${name} to be gone`, async () => (await read(name).catch(() => undefined)) === undefined);
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

beforeAll(async () => {
  namespace = await freshNamespace('crd');
  await installCrd();
});

afterAll(async () => {
  if (namespace) await deleteNamespace(namespace);
});

describe('invalid DSMClusters are refused by the apiserver with readable messages', () => {
  it('a wrong type: core.replicas "two"', async () => {
    const { code, message } = await createRefused(
      cluster('types', { version: '1.0.0', core: { replicas: 'two' } }),
    );
    expect(code).toBe(422);
    expect(message).toContain(
      'spec.core.replicas: Invalid value: "string": spec.core.replicas in body must be of type integer: "string"',
    );
    // Through kubectl's server-side apply the typed patch names the field too.
    const applied = await kubectlRefusal(
      ['apply', '--server-side', '-n', namespace, '-f', '-'],
      JSON.stringify(cluster('types', { version: '1.0.0', core: { replicas: 'two' } })),
    );
    expect(applied).toContain('.spec.core.replicas: expected numeric (int or float), got string');
  });

  it('out-of-range settings: core.policyTtl -1, storage.replicationFactor 0', async () => {
    const { code, message } = await createRefused(
      cluster('range', { version: '1.0.0', core: { policyTtl: -1 }, storage: { replicationFactor: 0 } }),
    );
    expect(code).toBe(422);
    expect(message).toContain(
      'spec.core.policyTtl: Invalid value: -1: spec.core.policyTtl in body should be greater than or equal to 0',
    );
    expect(message).toContain(
      'spec.storage.replicationFactor: Invalid value: 0: spec.storage.replicationFactor in body should be greater than or equal to 1',
    );
  });

  it('unknown fields under strict field validation (the fieldValidation=Strict query, kubectl --validate=strict)', async () => {
    const body = cluster('unknown', { version: '1.0.0', core: { replica: 2 }, bogus: 1 });
    const { code, message } = await refusal(create(body, 'Strict'));
    expect(code).toBe(400);
    expect(message).toBe(
      'DSMCluster in version "v1alpha1" cannot be handled as a DSMCluster: strict decoding error: ' +
        'unknown field "spec.bogus", unknown field "spec.core.replica"',
    );
    const stderr = await kubectlRefusal(
      ['apply', '--validate=strict', '-n', namespace, '-f', '-'],
      JSON.stringify(body),
    );
    expect(stderr).toContain(
      'strict decoding error: unknown field "spec.bogus", unknown field "spec.core.replica"',
    );
    // Server-side apply checks the fields against the schema whatever the validation level.
    const ssa = await kubectlRefusal(
      ['apply', '--server-side', '--validate=strict', '-n', namespace, '-f', '-'],
      JSON.stringify(body),
    );
    expect(ssa).toContain('field not declared in schema');
    expect(await read('unknown').catch(() => undefined)).toBeUndefined();
  });

  it('version: latest', async () => {
    const { code, message } = await createRefused(cluster('latest', { version: 'latest' }));
    expect(code).toBe(422);
    expect(message).toBe(
      'DSMCluster.dsm.io "latest" is invalid: spec.version: Invalid value: "latest": version must name a ' +
        'release (such as 0.1.0), not latest: the operator rolls from one version to the next',
    );
  });

  it('a name too long for the Services and pods it names', async () => {
    const name = `a${'b'.repeat(40)}`;
    const { code, message } = await createRefused(cluster(name, { version: '1.0.0' }));
    expect(code).toBe(422);
    expect(message).toContain(
      'Invalid value: metadata.name must be at most 40 ' +
        'lower-case letters, digits and hyphens, starting with a letter and ending with a letter or digit: it ' +
        'names the Services and pods of the cluster',
    );
    // 40 is allowed.
    await create(cluster(name.slice(0, 40), { version: '1.0.0' }));
    await remove(name.slice(0, 40));
  });

  it('CEL: storage.replicationFactor above storage.replicas', async () => {
    const { code, message } = await createRefused(
      cluster('rf', { version: '1.0.0', storage: { replicas: 2, replicationFactor: 3 } }),
    );
    expect(code).toBe(422);
    expect(message).toBe(
      'DSMCluster.dsm.io "rf" is invalid: spec.storage.replicationFactor: Invalid value: ' +
        'storage.replicationFactor must not exceed storage.replicas: every write waits for that many storage nodes',
    );
  });

  it('CEL: an enabled bridge without rpcUrl/rpcSecret, signer Secret, chainId, contract', async () => {
    const { message } = await createRefused(
      cluster('bridge', { version: '1.0.0', bridge: { enabled: true } }),
    );
    expect(message).toContain(
      'spec.bridge: Invalid value: an enabled bridge needs exactly one of bridge.rpcUrl and bridge.rpcSecret',
    );
    expect(message).toContain(
      'spec.bridge.signerKeySecret: Invalid value: an enabled bridge needs bridge.signerKeySecret: the Secret holding its EVM key',
    );
    expect(message).toContain(
      'spec.bridge.chainId: Invalid value: an enabled bridge needs bridge.chainId: the chain id its EVM node must report',
    );
    expect(message).toContain(
      'spec.bridge.contractAddress: Invalid value: an enabled bridge needs bridge.contractAddress: the deployed DsmBridge contract',
    );
    // Both an rpcUrl and an rpcSecret is refused too; with everything given, only that rule fails.
    const both = await createRefused(
      cluster('bridge', {
        version: '1.0.0',
        bridge: {
          enabled: true,
          rpcUrl: 'http://evm:8545',
          rpcSecret: { name: 'evm' },
          signerKeySecret: { name: 'evm' },
          chainId: 31337,
          contractAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
        },
      }),
    );
    expect(both.message).toBe(
      'DSMCluster.dsm.io "bridge" is invalid: spec.bridge: Invalid value: an enabled bridge needs exactly ' +
        'one of bridge.rpcUrl and bridge.rpcSecret',
    );
  });

  it('transition rules: storageClassName and volume size immutable, chainId immutable once set', async () => {
    await create(
      cluster('immutable', {
        version: '1.0.0',
        storage: { volume: { storageClassName: 'fast' } },
        bridge: { chainId: 5 },
      }),
    );
    const change = (body: object) => refusal(mergePatch('immutable', { spec: body }));
    expect((await change({ storage: { volume: { storageClassName: 'slow' } } })).message).toBe(
      'DSMCluster.dsm.io "immutable" is invalid: spec.storage.volume.storageClassName: Invalid value: ' +
        'storage.volume.storageClassName cannot change: the volumes already exist in their class; move the ' +
        'data to a new cluster instead',
    );
    // Setting a class where there was none changes the class too.
    expect((await change({ core: { volume: { storageClassName: 'fast' } } })).message).toContain(
      'spec.core.volume.storageClassName: Invalid value: core.volume.storageClassName cannot change',
    );
    expect((await change({ storage: { volume: { size: '30Gi' } } })).message).toBe(
      'DSMCluster.dsm.io "immutable" is invalid: spec.storage.volume.size: Invalid value: ' +
        "storage.volume.size cannot change: a StatefulSet's volume claims are fixed when it is created " +
        '(expand the PersistentVolumeClaims themselves where the storage class allows it)',
    );
    expect((await change({ core: { volume: { size: '11Gi' } } })).message).toContain(
      'spec.core.volume.size: Invalid value: core.volume.size cannot change',
    );
    const chainId =
      'DSMCluster.dsm.io "immutable" is invalid: spec.bridge.chainId: Invalid value: bridge.chainId cannot ' +
      'change once set: the bridge journal belongs to one chain';
    expect((await change({ bridge: { chainId: 6 } })).message).toBe(chainId);
    expect((await change({ bridge: { chainId: null } })).message).toBe(chainId);
    // What may change still does, and the refused changes left nothing behind.
    const changed = await mergePatch('immutable', { spec: { storage: { replicas: 3 } } });
    expect(changed.spec).toMatchObject({
      storage: { replicas: 3, volume: { storageClassName: 'fast', size: '20Gi' } },
      core: { volume: { size: '10Gi' } },
      bridge: { chainId: 5 },
    });
    await remove('immutable');
  });

  it('a chainId may be set later (enabling the bridge)', async () => {
    await create(cluster('later', { version: '1.0.0' }));
    const changed = await mergePatch('later', { spec: { bridge: { chainId: 5 } } });
    expect((changed.spec.bridge as { chainId?: number }).chainId).toBe(5);
    await remove('later');
  });
});

describe('valid DSMClusters are accepted with the defaults of the zod schema', () => {
  // The DSMClusters (evm-devchain.yaml is a dev chain to try the bridge with).
  const files = readdirSync(EXAMPLES).filter((f) => f.startsWith('dsmcluster') && f.endsWith('.yaml'));

  it('lists the examples', () => {
    expect(files.sort()).toEqual(
      expect.arrayContaining(['dsmcluster-bridge.yaml', 'dsmcluster-production.yaml', 'dsmcluster.yaml']),
    );
  });

  it.each(files)('examples/%s', async (file) => {
    const sent = parse(readFileSync(join(EXAMPLES, file), 'utf8')) as Cluster;
    const created = await create(sent, 'Strict');
    // JSON round trip: zod output may carry undefined fields the apiserver never sees.
    const expected = JSON.parse(JSON.stringify(dsmClusterSpecSchema.parse(sent.spec))) as unknown;
    expect(created.spec).toEqual(expected);
    await remove(sent.metadata.name);
  });

  it('the smallest spec, version only, gets every default', async () => {
    const created = await create(cluster('minimal', { version: '1.0.0' }));
    expect(created.spec).toEqual(
      JSON.parse(JSON.stringify(dsmClusterSpecSchema.parse({ version: '1.0.0' }))),
    );
    expect(created.spec).toMatchObject({
      core: { replicas: 1, volume: { size: '10Gi', reclaimPolicy: 'Retain' } },
      storage: { replicas: 2, replicationFactor: 2, volume: { size: '20Gi', reclaimPolicy: 'Retain' } },
      bridge: { enabled: false },
    });
    await remove('minimal');
  });
});

describe('kubectl', () => {
  const NAME = 'shown';
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: ConditionType, status: 'True' | 'False', reason: string) => ({
    type,
    status,
    reason,
    message: `${type} is ${status}`,
    observedGeneration: 1,
    lastTransitionTime: now,
  });
  const component = (ready: number, replicas: number) => ({
    replicas,
    readyReplicas: ready,
    updatedReplicas: ready,
    ready: readyOf(ready, replicas),
    endpoints: [],
  });
  const status: DSMClusterStatus = {
    observedGeneration: 1,
    conditions: [
      condition('Ready', 'False', 'WaitingForPods'),
      condition('Progressing', 'True', 'RollingCore'),
      condition('Degraded', 'False', 'AsExpected'),
      condition('CoreReady', 'False', 'WaitingForPods'),
      condition('StorageReady', 'True', 'AllReplicasReady'),
      condition('BridgeReady', 'True', 'AllReplicasReady'),
    ],
    phase: 'Progressing',
    version: '1.0.0',
    core: component(1, 2),
    storage: component(3, 3),
    bridge: { ...component(1, 1), enabled: true },
    replicas: 3,
    selector: 'app.kubernetes.io/instance=shown,app.kubernetes.io/component=storage',
    secrets: {
      adminToken: 'shown-admin-token',
      apiToken: 'shown-api-token',
      keystoreKey: 'shown-keystore-key',
    },
  };

  beforeAll(async () => {
    const sent = parse(readFileSync(join(EXAMPLES, 'dsmcluster-bridge.yaml'), 'utf8')) as Cluster;
    sent.metadata.name = NAME;
    (sent.spec as { storage: { replicas: number } }).storage.replicas = 3;
    await create(sent);
    // The shape the operator writes (status.ts), checked by its own schema before the apiserver checks it.
    dsmClusterStatusSchema.parse(status);
    await custom.patchNamespacedCustomObjectStatus(
      { ...API, namespace, name: NAME, body: { status } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  });

  it('`kubectl get dsm` prints NAME READY CORE STORAGE BRIDGE VERSION AGE with the status values', async () => {
    const { stdout } = await kubectl(['get', 'dsm', '-n', namespace]);
    const [header, ...rows] = stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(header).toEqual(['NAME', 'READY', 'CORE', 'STORAGE', 'BRIDGE', 'VERSION', 'AGE']);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.slice(0, 6)).toEqual([NAME, 'False', '1/2', '3/3', '1/1', '1.0.0']);
    expect(rows[0]![6]).toMatch(/^\d+[smhd]/);
    // Phase is a wide column.
    const wide = (await kubectl(['get', 'dsm', '-n', namespace, '-o', 'wide'])).stdout.trim().split('\n');
    expect(wide[0]!.trim().split(/\s+/)).toEqual([
      'NAME',
      'READY',
      'CORE',
      'STORAGE',
      'BRIDGE',
      'VERSION',
      'PHASE',
      'AGE',
    ]);
    expect(wide[1]!.trim().split(/\s+/)[6]).toBe('Progressing');
    // The short name and the long one are the same resource.
    const long = (await kubectl(['get', 'dsmclusters.dsm.io', NAME, '-n', namespace, '--no-headers'])).stdout;
    expect(long.trim().split(/\s+/).slice(0, 6)).toEqual(rows[0]!.slice(0, 6));
  });

  it('a spec write cannot change the status, a status write cannot change the spec', async () => {
    await custom.patchNamespacedCustomObject(
      { ...API, namespace, name: NAME, body: { status: { phase: 'Degraded' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await custom.patchNamespacedCustomObjectStatus(
      { ...API, namespace, name: NAME, body: { spec: { version: '9.9.9' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const live = await read(NAME);
    expect(live.status?.phase).toBe('Progressing');
    expect(live.spec.version).toBe('0.1.0');
  });

  it('`kubectl explain dsmcluster.spec.storage` explains it: its description and its fields with theirs', async () => {
    const { stdout } = await kubectl(['explain', 'dsmcluster.spec.storage']);
    const text = oneLine(stdout);
    const schema = specSchema() as {
      properties: {
        storage: { description: string; properties: Record<string, { description: string; type?: string }> };
      };
    };
    const storage = schema.properties.storage;
    expect(text).toContain('KIND: DSMCluster');
    expect(text).toContain('FIELD: storage <Object>');
    expect(text).toContain(`DESCRIPTION: ${oneLine(storage.description)}`);
    const fields = Object.entries(storage.properties);
    expect(fields.map(([name]) => name).sort()).toEqual([
      'logLevel',
      'maxObjectBytes',
      'replicas',
      'replicationFactor',
      'resources',
      'syncIntervalMs',
      'volume',
    ]);
    for (const [name, field] of fields) {
      expect([name, text.includes(`${name} <`)]).toEqual([name, true]);
      expect([name, text.includes(oneLine(field.description))]).toEqual([name, true]);
    }
    expect(text).toContain(
      'replicas <integer> Storage nodes. New nodes join as peers and catch up; a node is removed only once its ' +
        'data is on replicationFactor other nodes.',
    );
    // Deeper too: the reclaim policy teaches what deleting the cluster does.
    const deeper = oneLine(
      (await kubectl(['explain', 'dsmcluster.spec.storage.volume.reclaimPolicy'])).stdout,
    );
    expect(deeper).toContain('What deleting the DSMCluster (or scaling down) does to the volumes');
  });

  it('the scale subresource: `kubectl scale` changes spec.storage.replicas; get --subresource=scale reads status', async () => {
    const scale = JSON.parse(
      (await kubectl(['get', `dsmcluster/${NAME}`, '-n', namespace, '--subresource=scale', '-o', 'json']))
        .stdout,
    ) as k8s.V1Scale;
    expect(scale).toMatchObject({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      spec: { replicas: 3 },
      status: { replicas: 3, selector: status.selector },
    });
    const before = (await read(NAME)).metadata.generation!;
    const { stdout } = await kubectl(['scale', `dsmcluster/${NAME}`, '-n', namespace, '--replicas=4']);
    expect(stdout.trim()).toBe(`dsmcluster.dsm.io/${NAME} scaled`);
    const live = await read(NAME);
    expect((live.spec.storage as { replicas: number }).replicas).toBe(4);
    expect(live.metadata.generation).toBe(before + 1);
    // The CEL rules hold through the scale subresource too: below the replicationFactor is refused.
    const refused = await kubectlRefusal(['scale', `dsmcluster/${NAME}`, '-n', namespace, '--replicas=1']);
    expect(refused).toContain(
      'storage.replicationFactor must not exceed storage.replicas: every write waits for that many storage nodes',
    );
    expect(((await read(NAME)).spec.storage as { replicas: number }).replicas).toBe(4);
  });
});
