import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
    await writeFile(join(dir, '000007.log'), 'a');
    await writeFile(join(dir, '000001.sst'), 'not a wal');
    const wal = new WalSync(dir);
    await wal.sync();
    // A switch: a new WAL appears and the old one is removed once its memtable is flushed.
    await writeFile(join(dir, '000009.log'), 'b');
    await wal.sync();
    await rm(join(dir, '000007.log'));
    await wal.sync();
    expect(wal.rounds).toBe(3);
    await wal.close();
  });

  it('shares one round between writers that arrive while a round is queued', async () => {
    await writeFile(join(dir, '000003.log'), 'x');
    const wal = new WalSync(dir);
    await Promise.all(Array.from({ length: 20 }, () => wal.sync()));
    expect(wal.rounds).toBeLessThanOrEqual(2);
    await wal.close();
  });
});
