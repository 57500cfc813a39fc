/**
 * Durable writes for rocksdb-native, which always writes with RocksDB's default WriteOptions (no `sync`).
 * Every write still goes through RocksDB's write-ahead log and reaches the operating system when the write
 * returns; what is missing is the fsync. So a durable write fdatasyncs the WAL files itself: every `*.log`
 * in the database directory that may still be receiving records (the current one, and any that appeared
 * since the last sync, so a WAL switch in between cannot leave our record unsynced). New WAL files also
 * get their directory entry synced. Concurrent callers share one round (group commit): a round that
 * started before a caller's write landed cannot vouch for it, so such callers wait for the next round.
 */
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const WAL_FILE = /^(\d+)\.log$/;

export class WalSync {
  private readonly handles = new Map<number, FileHandle>();
  /** WAL numbers below this are complete and synced; they receive no more records. */
  private floor = 0;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** Rounds run so far (group commit shares them between writers). */
  rounds = 0;

  constructor(private readonly dir: string) {}

  /** Resolves once every write that completed before this call is on disk. */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    const before = this.running ?? Promise.resolve();
    const queued = before
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        const running = this.round();
        this.running = running;
        return running.finally(() => {
          if (this.running === running) this.running = null;
        });
      });
    this.queued = queued;
    return queued;
  }

  private async round(): Promise<void> {
    this.rounds++;
    const numbers = (await readdir(this.dir))
      .map((name) => WAL_FILE.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .filter((n) => n >= this.floor)
      .sort((a, b) => a - b);
    let created = false;
    for (const number of numbers) {
      let handle = this.handles.get(number);
      if (handle === undefined) {
        try {
          handle = await open(join(this.dir, `${String(number).padStart(6, '0')}.log`), 'r');
        } catch (e) {
          // Deleted after its memtable reached an SST file, which RocksDB synced itself.
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw e;
        }
        this.handles.set(number, handle);
        created = true;
      }
      await handle.datasync();
    }
    if (created) await this.syncDirectory();
    const newest = numbers[numbers.length - 1];
    if (newest !== undefined) {
      for (const [number, handle] of this.handles) {
        if (number < newest) {
          this.handles.delete(number);
          await handle.close();
        }
      }
      this.floor = newest;
    }
  }

  private async syncDirectory(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queued, this.running]);
    for (const handle of this.handles.values()) await handle.close();
    this.handles.clear();
  }
}
