import { describe, expect, it } from '@jest/globals';
import type { V1Job } from '@kubernetes/client-node';
import type { BackupSpec } from '@dsm/cdk8s';
import { observeBackups, runOf } from './backup-status.js';

const spec = { schedule: '0 3 * * *', timeZone: 'Etc/UTC', retention: 7, suspend: false } as BackupSpec;

function job(name: string, outcome: 'Complete' | 'Failed' | 'running', at: string): V1Job {
  const condition =
    outcome === 'Complete'
      ? { type: 'Complete', status: 'True', lastTransitionTime: at }
      : {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          lastTransitionTime: at,
        };
  return {
    metadata: { name },
    status: {
      ...(outcome === 'Complete' ? { completionTime: at } : {}),
      conditions: outcome === 'running' ? [] : [condition],
    },
  } as unknown as V1Job;
}

describe('backup status', () => {
  it('reads a Job: done, failed with why, or still running', () => {
    expect(runOf(job('b-1', 'Complete', '2026-12-02T03:00:09Z'))).toEqual({
      job: 'b-1',
      time: '2026-12-02T03:00:09.000Z',
      succeeded: true,
    });
    expect(runOf(job('b-2', 'Failed', '2026-12-02T03:10:00Z'))).toMatchObject({
      succeeded: false,
      message: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
    });
    expect(runOf(job('b-3', 'running', '2026-12-02T03:20:00Z'))).toBeUndefined();
  });

  it('no spec.backup: nothing; none finished yet: Unknown', () => {
    expect(
      observeBackups(undefined, [job('b', 'Complete', '2026-12-02T03:00:00Z')], undefined, 'c-backup'),
    ).toEqual({});
    expect(
      observeBackups(spec, [job('b', 'running', '2026-12-02T03:00:00Z')], undefined, 'c-backup').condition,
    ).toMatchObject({
      type: 'LastBackupSucceeded',
      status: 'Unknown',
      reason: 'NoBackupYet',
    });
  });

  it('the newest finished run decides the condition; the last good one is kept, also after its Job is gone', () => {
    const jobs = [
      job('b-1', 'Complete', '2026-12-01T03:00:00Z'),
      job('b-2', 'Failed', '2026-12-02T03:00:00Z'),
      job('b-3', 'running', '2026-12-02T04:00:00Z'),
    ];
    const failed = observeBackups(spec, jobs, undefined, 'c-backup');
    expect(failed.lastBackup).toMatchObject({ job: 'b-2', succeeded: false });
    expect(failed.lastSuccessfulBackup).toMatchObject({ job: 'b-1' });
    expect(failed.condition).toMatchObject({ status: 'False', reason: 'BackupFailed' });
    expect(failed.condition?.message).toContain('kubectl logs job/b-2');
    expect(failed.condition?.message).toContain('last good backup: 2026-12-01T03:00:00.000Z');
    // The CronJob keeps few Jobs: what the status recorded stays when they are gone.
    const later = observeBackups(
      spec,
      [job('b-4', 'Complete', '2026-12-03T03:00:00Z')],
      { lastBackup: failed.lastBackup!, lastSuccessfulBackup: failed.lastSuccessfulBackup! },
      'c-backup',
    );
    expect(later).toMatchObject({
      lastBackup: { job: 'b-4' },
      lastSuccessfulBackup: { job: 'b-4' },
      condition: { status: 'True', reason: 'BackupCompleted' },
    });
    const gone = observeBackups(
      spec,
      [],
      { lastBackup: later.lastBackup!, lastSuccessfulBackup: later.lastSuccessfulBackup! },
      'c-backup',
    );
    expect(gone.lastSuccessfulBackup).toEqual(later.lastSuccessfulBackup);
  });
});
