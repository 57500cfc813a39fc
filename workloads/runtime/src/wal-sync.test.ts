import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from './wal-sync.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wal-sync-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('WalSync', () => {
  it('syncs every WAL file that may hold new records and follows WAL switches', async () => {
    // Watch the real fsyncs: which files get fdatasync'd, and that the directory is synced for a new WAL.
    const probe = await open(dir, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync(): Promise<void>; sync(): Promise<void> };
    await probe.close();
    const datasync = jest.spyOn(proto, 'datasync');
    const dirSync = jest.spyOn(proto, 'sync');
    try {
      await writeFile(join(dir, '000007.log'), 'a');
      await writeFile(join(dir, '000001.sst'), 'not a wal');
      const wal = new WalSync(dir);
      await wal.sync();
      expect(datasync).toHaveBeenCalledTimes(1); // 000007.log only, never the SST
      expect(dirSync).toHaveBeenCalledTimes(1); // a WAL it had not seen: its directory entry too
      // A switch: a new WAL appears; both may hold records written before this round.
      await writeFile(join(dir, '000009.log'), 'b');
      await wal.sync();
      expect(datasync).toHaveBeenCalledTimes(3);
      expect(dirSync).toHaveBeenCalledTimes(2);
      // The old WAL is complete now: later rounds sync only the current one, even after it is deleted.
      await rm(join(dir, '000007.log'));
      await wal.sync();
      expect(datasync).toHaveBeenCalledTimes(4);
      expect(wal.rounds).toBe(3);
      await wal.close();
    } finally {
      datasync.mockRestore();
      dirSync.mockRestore();
    }
  });

  it('shares one round between writers that arrive while a round is queued', async () => {
    await writeFile(join(dir, '000003.log'), 'x');
    const wal = new WalSync(dir);
    await Promise.all(Array.from({ length: 20 }, () => wal.sync()));
    expect(wal.rounds).toBeLessThanOrEqual(2);
    await wal.close();
  });
});
