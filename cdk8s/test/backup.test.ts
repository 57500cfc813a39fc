// spec.backup becomes a CronJob running `dsm backup run` against every component, reachable through the
// NetworkPolicies; spec.bootstrap.fromBackup mounts the backup in every pod and names its file.
import { describe, expect, it } from '@jest/globals';
import { desiredObjects, dsmClusterSpecSchema, podSecurityProblems, type DSMCluster } from '@dsm/cdk8s';
import type { PodSpecLike } from '../src/pss.js';
import { ALL_CAPABILITIES, exampleCluster, find, podTemplateOf } from './helpers.js';

const withSpec = (spec: object): DSMCluster => {
  const base = exampleCluster('dsmcluster');
  return { ...base, spec: dsmClusterSpecSchema.parse({ ...base.spec, ...spec }) };
};
const objectsOf = (cluster: DSMCluster) => desiredObjects(cluster, { capabilities: ALL_CAPABILITIES });

describe('spec.backup', () => {
  const production = objectsOf(exampleCluster('dsmcluster-production'));
  const cron = find(production, 'CronJob', 'production-backup');
  const spec = cron.spec as {
    schedule: string;
    timeZone: string;
    concurrencyPolicy: string;
    jobTemplate: { spec: { backoffLimit: number } };
  };
  const pod = podTemplateOf(cron)!;

  it('schedules one run at a time of dsm backup run over every component, keeping `retention` folders', () => {
    expect(spec).toMatchObject({
      schedule: '0 3 * * *',
      timeZone: 'Europe/Berlin',
      concurrencyPolicy: 'Forbid',
    });
    const container = pod.spec.containers[0]! as unknown as {
      image: string;
      command: string[];
      args: string[];
    };
    expect(container.image).toBe('registry.example.com/dsm/dsm-core:0.1.0');
    expect(container.command).toEqual(['/usr/local/bin/cli']);
    expect(container.args).toEqual([
      'backup',
      'run',
      '--json',
      '--dir',
      '/backups',
      '--keep',
      '14',
      '--storage',
      'production-storage-0.production-storage-headless:8765',
      '--core',
      'production-core-0.production-core-headless:8765',
      '--core',
      'production-core-1.production-core-headless:8765',
    ]);
    expect(pod.spec.volumes).toContainEqual({
      name: 'backups',
      persistentVolumeClaim: { claimName: 'dsm-backups', readOnly: false },
    });
    expect(pod.metadata?.labels).toMatchObject({
      'dsm.io/cluster': 'production',
      'app.kubernetes.io/component': 'backup',
    });
  });

  it('meets the Pod Security Standard "restricted"', () => {
    expect(podSecurityProblems(pod.spec as PodSpecLike)).toEqual([]);
  });

  it('lets the backup pods through to storage, the core P2P port and the bridge', () => {
    const policy = (name: string) =>
      JSON.stringify((find(production, 'NetworkPolicy', name).spec as { ingress: unknown[] }).ingress);
    const backupPeer =
      '{"podSelector":{"matchLabels":{"app.kubernetes.io/component":"backup","dsm.io/cluster":"production"}}}';
    expect(policy('production-storage')).toContain(backupPeer);
    expect(policy('production-core')).toContain(backupPeer);
    // Without spec.backup, nothing of it.
    const plain = objectsOf(exampleCluster('dsmcluster'));
    expect(plain.some((o) => o.kind === 'CronJob')).toBe(false);
    expect(JSON.stringify(plain)).not.toContain('"backup"');
  });

  it('names the bridge when it runs, and refuses volume sources "restricted" forbids', () => {
    const bridge = exampleCluster('dsmcluster-bridge');
    const cluster = {
      ...bridge,
      spec: dsmClusterSpecSchema.parse({
        ...bridge.spec,
        backup: { schedule: '@daily', destination: { volume: { csi: { driver: 'x' } } } },
      }),
    };
    const args = (
      podTemplateOf(find(objectsOf(cluster), 'CronJob', `${cluster.metadata.name}-backup`))!.spec
        .containers[0] as unknown as { args: string[] }
    ).args;
    expect(args.slice(-2)).toEqual(['--bridge', `${cluster.metadata.name}-bridge:8768`]);
    const refused = dsmClusterSpecSchema.safeParse({
      ...bridge.spec,
      backup: { schedule: '@daily', destination: { volume: { hostPath: { path: '/srv' } } } },
    });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toContain('Pod Security Standard');
    for (const destination of [{}, { persistentVolumeClaim: { claimName: 'a' }, volume: { csi: {} } }])
      expect(
        dsmClusterSpecSchema.safeParse({ ...bridge.spec, backup: { schedule: '@daily', destination } })
          .success,
      ).toBe(false);
    expect(
      dsmClusterSpecSchema.safeParse({
        ...bridge.spec,
        backup: { schedule: 'every day', destination: { persistentVolumeClaim: { claimName: 'a' } } },
      }).success,
    ).toBe(false);
  });
});

describe('spec.bootstrap.fromBackup', () => {
  const cluster = withSpec({
    core: { replicas: 2 },
    bootstrap: {
      fromBackup: {
        source: { persistentVolumeClaim: { claimName: 'dsm-backups' } },
        folder: '20261202T030000Z',
      },
    },
  });
  const objects = objectsOf(cluster);
  const name = cluster.metadata.name;
  const envOf = (kind: string, object: string) =>
    Object.fromEntries(
      (podTemplateOf(find(objects, kind, object))!.spec.containers[0]!.env ?? []).map((e) => [
        e.name,
        e.value ?? e.valueFrom,
      ]),
    );

  it('mounts the backup read-only and names each pod its file', () => {
    expect(envOf('StatefulSet', `${name}-storage`)).toMatchObject({
      DSM_STORAGE_RESTORE_FROM: '/var/lib/dsm-restore/20261202T030000Z/storage.car',
    });
    expect(envOf('StatefulSet', `${name}-core`)).toMatchObject({
      DSM_POD_INDEX: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
      DSM_CORE_RESTORE_FROM: '/var/lib/dsm-restore/20261202T030000Z/core-$(DSM_POD_INDEX).car',
    });
    for (const sts of [`${name}-storage`, `${name}-core`]) {
      const spec = podTemplateOf(find(objects, 'StatefulSet', sts))!.spec;
      expect(spec.volumes).toContainEqual({
        name: 'restore',
        persistentVolumeClaim: { claimName: 'dsm-backups', readOnly: true },
      });
      expect(spec.containers[0]!.volumeMounts).toContainEqual({
        name: 'restore',
        mountPath: '/var/lib/dsm-restore',
        readOnly: true,
      });
      expect(podSecurityProblems(spec as PodSpecLike)).toEqual([]);
    }
  });

  it('refuses a folder that is a path', () => {
    for (const folder of ['../x', 'a/b', '..', ''])
      expect(
        dsmClusterSpecSchema.safeParse({
          ...cluster.spec,
          bootstrap: { fromBackup: { source: { persistentVolumeClaim: { claimName: 'b' } }, folder } },
        }).success,
      ).toBe(false);
  });
});
