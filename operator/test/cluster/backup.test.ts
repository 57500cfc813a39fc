/**
 * spec.backup on a real kube-apiserver and kube-controller-manager: the operator makes the CronJob (owned by
 * the cluster, pruned with spec.backup), and the status and Events follow the backup Jobs. No kubelet runs
 * the Jobs here: the test makes them itself, managed by itself (spec.managedBy) so the Job controller leaves
 * them alone, and writes their outcome through the status subresource as the Job controller would.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { LABELS, names, podSecurityProblems } from '@dsm/cdk8s';
import { deleteNamespace, waitFor } from '../../../e2e/cluster/kube.js';
import { Harness } from './harness.js';

const NAME = 'saved';
const n = names(NAME);
let h: Harness;
let batch: k8s.BatchV1Api;

const BACKUP = {
  schedule: '0 3 * * *',
  retention: 5,
  destination: { persistentVolumeClaim: { claimName: 'dsm-backups' } },
};

beforeAll(async () => {
  h = await Harness.start('backup');
  batch = h.config.makeApiClient(k8s.BatchV1Api);
  await h.createCluster(NAME, { version: '0.1.0', backup: BACKUP });
}, 120_000);

afterAll(async () => {
  await h.stop();
  await deleteNamespace(h.namespace);
});

/** A Job of the backup CronJob that ended as `outcome` at `at`. */
async function finishedJob(name: string, outcome: 'Complete' | 'Failed', at: Date): Promise<void> {
  const cron = h.informers.get('CronJob', h.namespace, n.backup)!;
  await batch.createNamespacedJob({
    namespace: h.namespace,
    body: {
      metadata: {
        name,
        labels: { [LABELS.cluster]: NAME, [LABELS.component]: 'backup' },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: n.backup,
            uid: cron.metadata!.uid!,
            controller: true,
          },
        ],
      },
      spec: { managedBy: 'dsm.io/test', template: cron.spec!.jobTemplate.spec!.template },
    },
  });
  const live = await batch.readNamespacedJob({ name, namespace: h.namespace });
  const time = at.toISOString() as unknown as Date;
  const start = new Date(at.getTime() - 5000).toISOString() as unknown as Date;
  const condition = (type: string, reason: string, message: string): k8s.V1JobCondition => ({
    type,
    status: 'True',
    reason,
    message,
    lastProbeTime: time,
    lastTransitionTime: time,
  });
  live.status =
    outcome === 'Complete'
      ? {
          startTime: start,
          completionTime: time,
          succeeded: 1,
          conditions: [
            condition(
              'SuccessCriteriaMet',
              'CompletionsReached',
              'Reached expected number of succeeded pods',
            ),
            condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
          ],
        }
      : {
          startTime: start,
          failed: 3,
          conditions: [
            condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
            condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
          ],
        };
  await batch.replaceNamespacedJobStatus({ name, namespace: h.namespace, body: live });
}

describe('spec.backup', () => {
  it('makes a CronJob owned by the cluster whose pods meet "restricted"; no backup yet is Unknown', async () => {
    await h.reconcileUntil(
      NAME,
      'the backup CronJob',
      () => h.informers.get('CronJob', h.namespace, n.backup) !== undefined,
    );
    const cron = h.informers.get('CronJob', h.namespace, n.backup)!;
    expect(cron.spec).toMatchObject({
      schedule: '0 3 * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
    });
    expect(cron.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'DSMCluster',
      name: NAME,
      controller: true,
    });
    expect(podSecurityProblems(cron.spec!.jobTemplate.spec!.template.spec! as never)).toEqual([]);
    await h.reconcileUntil(
      NAME,
      'LastBackupSucceeded Unknown',
      () => h.condition(NAME, 'LastBackupSucceeded')?.status === 'Unknown',
    );
    expect(h.condition(NAME, 'LastBackupSucceeded')).toMatchObject({ reason: 'NoBackupYet' });
  });

  it('reports each finished backup in the status and as an Event, failures as warnings', async () => {
    await finishedJob('saved-backup-1', 'Complete', new Date('2026-12-01T03:00:10Z'));
    await h.reconcileUntil(
      NAME,
      'the first backup in the status',
      () => h.cached(NAME)?.status?.lastBackup?.job === 'saved-backup-1',
    );
    expect(h.cached(NAME)?.status).toMatchObject({
      lastBackup: { job: 'saved-backup-1', time: '2026-12-01T03:00:10.000Z', succeeded: true },
      lastSuccessfulBackup: { job: 'saved-backup-1' },
    });
    expect(h.condition(NAME, 'LastBackupSucceeded')).toMatchObject({
      status: 'True',
      reason: 'BackupCompleted',
    });
    expect(h.events.filter((e) => e.reason === 'BackupCompleted')).toHaveLength(1);

    await finishedJob('saved-backup-2', 'Failed', new Date('2026-12-02T03:00:40Z'));
    await h.reconcileUntil(
      NAME,
      'the failed backup in the status',
      () => h.condition(NAME, 'LastBackupSucceeded')?.status === 'False',
    );
    const failed = h.condition(NAME, 'LastBackupSucceeded')!;
    expect(failed.reason).toBe('BackupFailed');
    expect(failed.message).toContain('BackoffLimitExceeded');
    expect(failed.message).toContain('last good backup: 2026-12-01T03:00:10.000Z');
    expect(h.cached(NAME)?.status?.lastSuccessfulBackup?.job).toBe('saved-backup-1');
    expect(h.events.filter((e) => e.reason === 'BackupFailed' && e.type === 'Warning')).toHaveLength(1);
    // The cluster itself stays Ready-able: a failed backup is not a failed cluster.
    expect(h.cached(NAME)?.status?.phase).not.toBe('Degraded');
    // Reconciling again reports nothing new.
    await h.reconciler.reconcile(h.key(NAME));
    expect(h.events.filter((e) => e.reason.startsWith('Backup'))).toHaveLength(2);
  });

  it('removes the CronJob and the condition once spec.backup is removed', async () => {
    await h.custom.patchNamespacedCustomObject(
      {
        group: 'dsm.io',
        version: 'v1alpha1',
        plural: 'dsmclusters',
        namespace: h.namespace,
        name: NAME,
        body: [{ op: 'remove', path: '/spec/backup' }],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    await waitFor(
      'the spec without backup in the cache',
      async () => h.cached(NAME)?.spec.backup === undefined,
    );
    await h.reconcileUntil(
      NAME,
      'the CronJob pruned',
      () => h.informers.get('CronJob', h.namespace, n.backup) === undefined,
    );
    await h.reconcileUntil(
      NAME,
      'the backup condition gone',
      () => h.condition(NAME, 'LastBackupSucceeded') === undefined,
    );
  });
});
