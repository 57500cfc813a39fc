/**
 * Sending a backup over HTTP, the same way for every service: the archive streams at the client's pace, the
 * metrics count it only when it went out whole, and a stream that fails half way is cut off (the client sees
 * a broken transfer, never a short archive that ends cleanly).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response, Router } from 'express';
import type { BackupMetrics } from './backup-metrics.js';
import type { Logger } from './log.js';
import { CAR } from './media.js';
import { storeSnapshot } from './store-snapshot.js';
import type { Store } from './store.js';

export interface Outgoing {
  /** File name offered to the client. */
  filename: string;
  /** Id of the archive's root (its manifest). */
  root: string;
  bytes: AsyncIterable<Uint8Array>;
}

export async function sendBackup(
  res: Response,
  archive: Outgoing,
  started: number,
  metrics: BackupMetrics,
  logger: Logger,
): Promise<void> {
  let sent = 0;
  try {
    res.status(200).set({
      'content-type': CAR,
      'content-disposition': `attachment; filename="${archive.filename}"`,
      'dsm-backup-root': archive.root,
    });
    const counting = async function* () {
      for await (const chunk of archive.bytes) {
        sent += chunk.length;
        yield chunk;
      }
    };
    await pipeline(Readable.from(counting()), res);
    const seconds = (performance.now() - started) / 1000;
    metrics.succeeded(sent, seconds);
    logger.info({ root: archive.root, bytes: sent, seconds }, 'backup served');
  } catch (e) {
    metrics.failed((performance.now() - started) / 1000);
    logger.warn({ err: (e as Error).message, bytes: sent }, 'backup did not complete');
    if (res.headersSent) res.destroy(e as Error);
    else throw e;
  }
}

/** `GET path`: the service's whole store as one consistent snapshot file (store-snapshot.ts). Guard it first. */
export function snapshotRoute(
  router: Router,
  path: string,
  ctx: { store: Store; service: string; nodeId: () => string; metrics: BackupMetrics; logger: Logger },
): void {
  router.get(path, async (_req, res) => {
    const started = performance.now();
    const snapshot = await storeSnapshot(ctx.store, {
      service: ctx.service,
      nodeId: ctx.nodeId(),
      createdAt: new Date(),
    });
    const stamp = snapshot.manifest.createdAt.replace(/[:.]/g, '-');
    await sendBackup(
      res,
      {
        filename: `${ctx.service}-${snapshot.manifest.nodeId}-${stamp}.car`,
        root: snapshot.root.toString(),
        bytes: snapshot.bytes,
      },
      started,
      ctx.metrics,
      ctx.logger,
    );
  });
}
