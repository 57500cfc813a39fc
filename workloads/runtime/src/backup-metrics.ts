/**
 * Metrics of the backups a service serves (storage archives, core and bridge snapshots), the same names on
 * every service so one alert covers them all: the age of the last good backup, how long backups take, how
 * large they are and how many failed.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function backupMetrics(registry: Registry) {
  const lastSuccess = new Gauge({
    name: 'dsm_backup_last_success_timestamp_seconds',
    help: 'Unix time of the last backup served whole (0: none since the service started)',
    registers: [registry],
  });
  const bytes = new Gauge({
    name: 'dsm_backup_bytes',
    help: 'Size of the last backup served whole',
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'dsm_backup_duration_seconds',
    help: 'Time to produce a backup, by result',
    labelNames: ['result'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'dsm_backup_failures_total',
    help: 'Backups that did not complete (a read failed, the client went away)',
    registers: [registry],
  });
  const restores = new Counter({
    name: 'dsm_restores_total',
    help: 'Restores attempted, by result (restored, refused)',
    labelNames: ['result'],
    registers: [registry],
  });
  // Every series exists from the start (0), so dashboards and alerts see a service that never backed up.
  for (const result of ['success', 'failure']) duration.zero({ result });
  for (const result of ['restored', 'refused']) restores.inc({ result }, 0);
  return {
    /** A backup of `size` bytes was served whole, `seconds` after it started. */
    succeeded(size: number, seconds: number): void {
      lastSuccess.set(Date.now() / 1000);
      bytes.set(size);
      duration.observe({ result: 'success' }, seconds);
    },
    failed(seconds: number): void {
      failures.inc();
      duration.observe({ result: 'failure' }, seconds);
    },
    restored(result: 'restored' | 'refused'): void {
      restores.inc({ result });
    },
  };
}

export type BackupMetrics = ReturnType<typeof backupMetrics>;
