import { describe, expect, it } from '@jest/globals';
import type { DSMCluster } from '@dsm/cdk8s';
import { allowedBackupAgeSeconds, backupAges, LATE_SECONDS } from './backup-age.js';

const now = new Date('2026-12-02T12:00:00Z');

describe('allowed backup age', () => {
  it('is the longest gap between runs plus an hour', () => {
    expect(allowedBackupAgeSeconds('0 3 * * *', 'Etc/UTC', now)).toBe(86_400 + LATE_SECONDS);
    expect(allowedBackupAgeSeconds('@hourly', 'Etc/UTC', now)).toBe(3600 + LATE_SECONDS);
    // Weekly in Berlin: the week in which the clocks go back is an hour longer.
    expect(allowedBackupAgeSeconds('0 3 * * 1', 'Europe/Berlin', now)).toBe(7 * 86_400 + 3600 + LATE_SECONDS);
    expect(allowedBackupAgeSeconds('0 3 * * 1', 'Etc/UTC', now)).toBe(7 * 86_400 + LATE_SECONDS);
    // Weekdays only: the weekend is the longest gap.
    expect(allowedBackupAgeSeconds('0 3 * * 1-5', 'Etc/UTC', now)).toBe(3 * 86_400 + LATE_SECONDS);
  });

  it('counts from the last good backup, or from when backups were asked for', () => {
    const cluster = (name: string, status: object, backup = true) =>
      ({
        metadata: { name, namespace: 'dsm' },
        spec: backup ? { backup: { schedule: '0 3 * * *', timeZone: 'Etc/UTC' } } : {},
        status,
      }) as unknown as DSMCluster;
    const ages = backupAges(
      [
        cluster('a', { lastSuccessfulBackup: { job: 'j', time: '2026-12-02T03:00:10Z', succeeded: true } }),
        cluster('b', {}),
        cluster('c', {}, false),
      ],
      (_ns, name) => (name === 'b' ? '2026-12-01T10:00:00Z' : undefined),
      now,
    );
    expect(ages).toEqual([
      {
        namespace: 'dsm',
        cluster: 'a',
        lastSuccess: Date.parse('2026-12-02T03:00:10Z') / 1000,
        maxAgeSeconds: 90_000,
      },
      {
        namespace: 'dsm',
        cluster: 'b',
        lastSuccess: Date.parse('2026-12-01T10:00:00Z') / 1000,
        maxAgeSeconds: 90_000,
      },
    ]);
  });
});
