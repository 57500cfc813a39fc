/**
 * The backup routes of a storage node: stream a consistent archive of the directory (backup.ts) and load
 * one into this empty node (restorer.ts). While a restore loads, every other data route answers
 * E_UNAVAILABLE, so neither clients nor peers see a half-loaded directory.
 */
import { CAR_MEDIA_TYPE, storageRoutes as R } from '@dsm/api';
import { DsmError } from '@dsm/protocol';
import { sendBackup, type BackupMetrics, type Logger } from '@dsm/runtime';
import type { Router } from 'express';
import { backupArchive } from './backup.js';
import type { Directory } from './directory.js';
import type { Restorer } from './restorer.js';

export interface BackupContext {
  directory: Directory;
  restorer: Restorer;
  nodeId: string;
  metrics: BackupMetrics;
  logger: Logger;
}

/** Routes that stay open while a restore loads: probes, status, metrics and the admin API. */
const OPEN_DURING_RESTORE = /^\/(healthz|readyz|metrics)$|^\/v1\/(status|admin\/)/;

/** Answers E_UNAVAILABLE on data routes while a restore loads. Registered before every data route. */
export function restoreGate(router: Router, restorer: Restorer): void {
  router.use((req, _res, next) => {
    if (!restorer.active || OPEN_DURING_RESTORE.test(req.path)) return next();
    next(new DsmError('E_UNAVAILABLE', 'a backup is being restored into this node; retry when it is done'));
  });
}

export function backupRoutes(router: Router, ctx: BackupContext): void {
  router.get(R.backup.path, async (_req, res) => {
    if (ctx.restorer.active)
      throw new DsmError('E_UNAVAILABLE', 'a backup is being restored into this node; back it up afterwards');
    const started = performance.now();
    const snapshot = ctx.directory.store.snapshot();
    try {
      const archive = await backupArchive(snapshot, { nodeId: ctx.nodeId, createdAt: new Date() });
      const stamp = archive.manifest.createdAt.replace(/[:.]/g, '-');
      res.set('dsm-backup-objects', String(archive.manifest.counts.objects));
      await sendBackup(
        res,
        {
          filename: `dsm-storage-${ctx.nodeId}-${stamp}.car`,
          root: archive.root.toString(),
          bytes: archive.bytes,
        },
        started,
        ctx.metrics,
        ctx.logger,
      );
    } finally {
      await snapshot.release();
    }
  });

  router.post(R.restore.path, async (req, res) => {
    if (!req.is(CAR_MEDIA_TYPE))
      throw new DsmError('E_UNSUPPORTED_MEDIA_TYPE', `a restore takes ${CAR_MEDIA_TYPE}`, {
        field: 'content-type',
      });
    const started = performance.now();
    try {
      const report = await ctx.restorer.restore(req as AsyncIterable<Uint8Array>);
      ctx.metrics.restored('restored');
      res.json({
        root: report.root,
        nodeId: report.manifest.nodeId,
        createdAt: report.manifest.createdAt,
        counts: report.manifest.counts,
        digest: report.manifest.digest,
        bytes: report.bytes,
        seconds: (performance.now() - started) / 1000,
      });
    } catch (e) {
      if (!(e instanceof DsmError && e.code === 'E_CONFLICT')) ctx.metrics.restored('refused');
      // What was not read of a refused archive is discarded, so the answer gets through.
      req.resume();
      throw e;
    }
  });
}
