/**
 * What spec.backup's Jobs say, for the status: the last backup that finished and the last that succeeded,
 * and the LastBackupSucceeded condition. Pure: the Jobs come from the informer's cache.
 */
import type { V1Job } from '@kubernetes/client-node';
import type { BackupRun, BackupSpec, DSMClusterStatus } from '@dsm/cdk8s';
import type { ConditionValue } from './conditions.js';

/** A Job's outcome once it finished: Complete or Failed (with why), and when. */
export function runOf(job: V1Job): BackupRun | undefined {
  const name = job.metadata?.name;
  if (name === undefined) return undefined;
  const conditions = job.status?.conditions ?? [];
  const done = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
  if (done !== undefined) {
    const time = job.status?.completionTime ?? done.lastTransitionTime;
    return { job: name, time: isoOf(time), succeeded: true };
  }
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed === undefined) return undefined;
  const why = [failed.reason, failed.message].filter(Boolean).join(': ');
  return {
    job: name,
    time: isoOf(failed.lastTransitionTime),
    succeeded: false,
    message: why === '' ? 'the Job failed' : why,
  };
}

/** The apiserver's JSON has strings; client-node's types say Date. */
const isoOf = (value: Date | string | undefined): string =>
  value === undefined ? new Date(0).toISOString() : new Date(value).toISOString();

export interface BackupObservation {
  lastBackup?: BackupRun;
  lastSuccessfulBackup?: BackupRun;
  condition?: ConditionValue;
}

/**
 * The newest finished runs among `jobs` (the backup CronJob's), kept from `previous` when the Jobs that
 * ran them are gone (the CronJob keeps three of each). No condition without spec.backup.
 */
export function observeBackups(
  spec: BackupSpec | undefined,
  jobs: readonly V1Job[],
  previous: DSMClusterStatus | undefined,
  cronJob: string,
): BackupObservation {
  if (spec === undefined) return {};
  const runs = jobs.flatMap((j) => runOf(j) ?? []);
  const newest = (list: readonly (BackupRun | undefined)[]) =>
    list
      .filter((r): r is BackupRun => r !== undefined)
      .reduce<BackupRun | undefined>((a, b) => (a === undefined || b.time > a.time ? b : a), undefined);
  const lastBackup = newest([previous?.lastBackup, ...runs]);
  const lastSuccessfulBackup = newest([previous?.lastSuccessfulBackup, ...runs.filter((r) => r.succeeded)]);
  const condition: ConditionValue =
    lastBackup === undefined
      ? {
          type: 'LastBackupSucceeded',
          status: 'Unknown',
          reason: 'NoBackupYet',
          message: `no backup has finished yet (CronJob ${cronJob}, schedule "${spec.schedule}")`,
        }
      : lastBackup.succeeded
        ? {
            type: 'LastBackupSucceeded',
            status: 'True',
            reason: 'BackupCompleted',
            message: `backup ${lastBackup.job} completed at ${lastBackup.time}`,
          }
        : {
            type: 'LastBackupSucceeded',
            status: 'False',
            reason: 'BackupFailed',
            message:
              `backup ${lastBackup.job} failed at ${lastBackup.time}: ${lastBackup.message ?? 'the Job failed'}` +
              `; see kubectl logs job/${lastBackup.job}` +
              (lastSuccessfulBackup
                ? ` (last good backup: ${lastSuccessfulBackup.time})`
                : ' (no good backup yet)'),
          };
  return {
    ...(lastBackup ? { lastBackup } : {}),
    ...(lastSuccessfulBackup ? { lastSuccessfulBackup } : {}),
    condition,
  };
}
