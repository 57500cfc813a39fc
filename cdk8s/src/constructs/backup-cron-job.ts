import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import { PORTS } from '../api/names.js';
import type { BackupSpec, BackupVolumeSpec } from '../api/spec.js';
import { labelsOf, metadataOf, type ClusterContext } from '../context.js';
import {
  containerSecurityContext,
  podSecurityContext,
  SECRETS_MOUNT,
  secretsVolume,
  TMP_MOUNT,
  tmpVolume,
} from '../pod.js';
import { SECRET_FILES, secretPath } from '../settings.js';

/** Where the backup pod sees its destination. */
export const BACKUP_DIR = '/backups';
/** A backup of a large network may take long; one that hangs is cut off after this. */
const DEADLINE_SECONDS = 6 * 3600;

/** The volume of a backup destination or source, named `name`. */
export function backupVolumeOf(name: string, spec: BackupVolumeSpec, readOnly: boolean): k8s.Volume {
  if (spec.persistentVolumeClaim !== undefined)
    return { name, persistentVolumeClaim: { claimName: spec.persistentVolumeClaim.claimName, readOnly } };
  return { name, ...(spec.volume as object) } as k8s.Volume;
}

export interface BackupCronJobProps {
  readonly context: ClusterContext;
  readonly backup: BackupSpec;
}

/**
 * Scheduled backups of the whole cluster: `dsm backup run` (the CLI of the core image) writes one folder
 * per run into the destination: storage.car from storage pod 0 (every storage node holds everything),
 * core-<n>.car from every core pod (each holds the keystore of the identities created on it), bridge.car.
 * It keeps `retention` folders. One run at a time (Forbid); a failed run is retried twice, then reported in
 * the cluster's status and Events. The pod meets the Pod Security Standard "restricted".
 */
export class BackupCronJob extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: BackupCronJobProps) {
    super(scope, id);
    const { context, backup } = props;
    const { spec, names, refs } = context;
    this.name = names.backup;
    const args = [
      'backup',
      'run',
      '--json',
      '--dir',
      BACKUP_DIR,
      '--keep',
      String(backup.retention),
      '--storage',
      `${names.podHost('storage', 0)}:${PORTS.storage}`,
      ...Array.from({ length: spec.core.replicas }, (_, i) => [
        '--core',
        `${names.podHost('core', i)}:${PORTS.coreP2p}`,
      ]).flat(),
      ...(spec.bridge.enabled ? ['--bridge', `${names.bridge}:${PORTS.bridge}`] : []),
    ];
    new k8s.KubeCronJob(this, 'Resource', {
      metadata: metadataOf(context, this.name, 'backup'),
      spec: {
        schedule: backup.schedule,
        timeZone: backup.timeZone,
        suspend: backup.suspend,
        concurrencyPolicy: 'Forbid',
        // A run missed by more than an hour (the controller was down) is skipped, not run late in a burst.
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: labelsOf(context, 'backup') },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: DEADLINE_SECONDS,
            ttlSecondsAfterFinished: 7 * 24 * 3600,
            template: {
              metadata: { labels: labelsOf(context, 'backup') },
              spec: {
                restartPolicy: 'Never',
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                securityContext: podSecurityContext(),
                ...(spec.image.pullSecrets.length === 0
                  ? {}
                  : { imagePullSecrets: spec.image.pullSecrets.map((name) => ({ name })) }),
                ...(spec.scheduling.nodeSelector === undefined
                  ? {}
                  : { nodeSelector: spec.scheduling.nodeSelector }),
                ...(spec.scheduling.tolerations === undefined
                  ? {}
                  : { tolerations: spec.scheduling.tolerations as unknown as k8s.Toleration[] }),
                containers: [
                  {
                    name: 'backup',
                    image: `${spec.image.repository}dsm-core:${context.versions.core}`,
                    imagePullPolicy: spec.image.pullPolicy,
                    command: ['/usr/local/bin/cli'],
                    args,
                    env: [
                      { name: 'DSM_ADMIN_TOKEN_FILE', value: secretPath('adminToken') },
                      // A backup streams for as long as it takes; this bounds each wait for an answer.
                      { name: 'DSM_TIMEOUT_MS', value: '60000' },
                    ],
                    volumeMounts: [{ name: 'backups', mountPath: BACKUP_DIR }, SECRETS_MOUNT, TMP_MOUNT],
                    resources: {
                      requests: {
                        cpu: k8s.Quantity.fromString('100m'),
                        memory: k8s.Quantity.fromString('128Mi'),
                      },
                      limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
                    },
                    securityContext: containerSecurityContext(),
                    terminationMessagePolicy: 'FallbackToLogsOnError',
                  },
                ],
                volumes: [
                  backupVolumeOf('backups', backup.destination, false),
                  secretsVolume([{ file: SECRET_FILES.adminToken, ref: refs.adminToken }]),
                  tmpVolume(),
                ],
              },
            },
          },
        },
      },
    });
  }
}
