/**
 * spec.bootstrap.fromBackup in the pods: the backup volume mounted read-only and each service told which
 * file of the backup folder to load into its empty data volume at start-up (DSM_*_RESTORE_FROM). A volume
 * that holds data ignores the setting, so the pods keep it for as long as the spec names the backup.
 */
import type { k8s } from './k8s.js';
import type { Component } from './api/names.js';
import { backupVolumeOf } from './constructs/backup-cron-job.js';
import type { ClusterContext } from './context.js';

/** Where a bootstrapping pod sees the backup volume. */
export const RESTORE_DIR = '/var/lib/dsm-restore';
const VOLUME = 'restore';

export interface RestoreParts {
  env: k8s.EnvVar[];
  volumeMounts: k8s.VolumeMount[];
  volumes: k8s.Volume[];
}

const NONE: RestoreParts = { env: [], volumeMounts: [], volumes: [] };

/** The file each component loads: storage.car, core-<pod ordinal>.car, bridge.car (`dsm backup run`). */
export function restoreParts(ctx: ClusterContext, component: Component): RestoreParts {
  const from = ctx.spec.bootstrap.fromBackup;
  if (from === undefined) return NONE;
  const folder = `${RESTORE_DIR}/${from.folder}`;
  const env: k8s.EnvVar[] =
    component === 'core'
      ? [
          // A StatefulSet pod's ordinal, as its label says (Kubernetes 1.28+).
          {
            name: 'DSM_POD_INDEX',
            valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
          },
          { name: 'DSM_CORE_RESTORE_FROM', value: `${folder}/core-$(DSM_POD_INDEX).car` },
        ]
      : component === 'storage'
        ? [{ name: 'DSM_STORAGE_RESTORE_FROM', value: `${folder}/storage.car` }]
        : [{ name: 'DSM_BRIDGE_RESTORE_FROM', value: `${folder}/bridge.car` }];
  return {
    env,
    volumeMounts: [{ name: VOLUME, mountPath: RESTORE_DIR, readOnly: true }],
    volumes: [backupVolumeOf(VOLUME, from.source, true)],
  };
}
