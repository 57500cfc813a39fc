/**
 * How old the last good backup of a cluster may be before that is a problem: the longest gap between two
 * runs of its schedule (in its time zone, over the next 64 runs, so weekly and monthly schedules and
 * daylight saving changes count), plus an hour for a run that starts late and takes long. Pure.
 */
import { CronExpressionParser } from 'cron-parser';
import type { DSMCluster } from '@dsm/cdk8s';

const RUNS = 64;
export const LATE_SECONDS = 3600;

export function allowedBackupAgeSeconds(schedule: string, timeZone: string, now: Date): number {
  const runs = CronExpressionParser.parse(schedule, { tz: timeZone, currentDate: now });
  let previous = runs.next().toDate().getTime();
  let longest = 0;
  for (let i = 0; i < RUNS; i++) {
    const next = runs.next().toDate().getTime();
    longest = Math.max(longest, next - previous);
    previous = next;
  }
  return longest / 1000 + LATE_SECONDS;
}

export interface BackupAge {
  namespace: string;
  cluster: string;
  /** Unix seconds of the last good backup; before the first, of when backups were asked for (the CronJob). */
  lastSuccess: number;
  maxAgeSeconds: number;
}

/** The clusters with spec.backup, as the backup age metrics show them. */
export function backupAges(
  clusters: readonly DSMCluster[],
  cronJobCreated: (namespace: string, cluster: string) => string | undefined,
  now: Date,
): BackupAge[] {
  return clusters.flatMap((c) => {
    const backup = c.spec?.backup;
    if (backup === undefined) return [];
    const { namespace, name } = c.metadata;
    const since = c.status?.lastSuccessfulBackup?.time ?? cronJobCreated(namespace, name);
    if (since === undefined) return [];
    let maxAgeSeconds: number;
    try {
      maxAgeSeconds = allowedBackupAgeSeconds(backup.schedule, backup.timeZone ?? 'Etc/UTC', now);
    } catch {
      return []; // a schedule the CronJob refuses: the cluster's status says so
    }
    return [{ namespace, cluster: name, lastSuccess: Date.parse(since) / 1000, maxAgeSeconds }];
  });
}
