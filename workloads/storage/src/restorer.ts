/**
 * Restores happen whole or not at all. A restore goes into an empty node only. It writes a durable marker
 * first, holds the node's API and replication off while it loads, and clears the marker only when the
 * archive has verified to the end. A refused archive is wiped at once, and a crash mid-restore is wiped at
 * the next open (the marker is still there). Either way the node is back to empty, as it was before.
 */
import { DsmError } from '@dsm/protocol';
import type { Logger, Store } from '@dsm/runtime';
import type { Directory } from './directory.js';
import { keys } from './keys.js';
import { restoreArchive, type RestoreReport } from './restore.js';

const MARKER = keys.meta('restore-in-progress');
const META = keys.metaPrefix();
const DELETE_BATCH = 10_000;

/** Deletes everything but the node's metadata (its peers), then the marker, durably. */
async function wipe(store: Store): Promise<number> {
  let deleted = 0;
  let batch = store.batch();
  for await (const { key } of store.iterate()) {
    if (key.subarray(0, META.length).equals(META)) continue;
    batch.delete(key);
    if (batch.size === DELETE_BATCH) {
      await batch.write({ sync: true });
      deleted += DELETE_BATCH;
      batch = store.batch();
    }
  }
  deleted += batch.size;
  batch.delete(MARKER);
  await batch.write({ sync: true });
  return deleted;
}

/** At open, before the directory loads: what a crash left of a restore is discarded. */
export async function discardUnfinishedRestore(store: Store, logger: Logger): Promise<void> {
  if ((await store.get(MARKER)) === null) return;
  const deleted = await wipe(store);
  logger.warn({ deleted }, 'discarded an unfinished restore (the node stopped during it): the node is empty');
}

export interface Pausable {
  readonly running: boolean;
  start(): void;
  stop(): Promise<void>;
}

export class Restorer {
  private running = false;

  constructor(
    private readonly directory: Directory,
    /** The replicator: no pulls from peers while a restore loads. */
    private readonly replication: Pausable,
    private readonly logger: Logger,
  ) {}

  /** True while a restore loads: the API answers E_UNAVAILABLE and readiness fails. */
  get active(): boolean {
    return this.running;
  }

  async restore(source: AsyncIterable<Uint8Array>): Promise<RestoreReport> {
    if (this.running) throw new DsmError('E_CONFLICT', 'a restore is already running on this node');
    if (!this.directory.isEmpty()) {
      const { objects } = this.directory.stats();
      throw new DsmError(
        'E_CONFLICT',
        `a backup is restored into an empty node only; this one holds ${objects} objects`,
        {
          objects,
        },
      );
    }
    this.running = true;
    const store = this.directory.store;
    const started = performance.now();
    const replicating = this.replication.running;
    try {
      await this.replication.stop();
      await store.batch().put(MARKER, Uint8Array.of(1)).write({ sync: true });
      let report: RestoreReport;
      try {
        report = await restoreArchive(this.directory, source);
      } catch (e) {
        const deleted = await wipe(store);
        await this.directory.reload();
        this.logger.warn(
          { err: (e as Error).message, deleted },
          'restore refused: what it loaded was discarded',
        );
        throw e;
      }
      await store.batch().delete(MARKER).write({ sync: true });
      this.logger.info(
        {
          root: report.root,
          objects: report.objects,
          evidence: report.evidence,
          bytes: report.bytes,
          seconds: (performance.now() - started) / 1000,
        },
        'backup restored',
      );
      return report;
    } finally {
      this.running = false;
      if (replicating) this.replication.start();
    }
  }
}
