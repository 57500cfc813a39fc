import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupFolderName, pruneBackups, writeWhole } from './backup-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsm-backups-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('backup folders', () => {
  it('are named by their UTC time, so names sort as times do', () => {
    expect(backupFolderName(new Date('2026-12-02T03:36:12.345Z'))).toBe('20261202T033612Z');
    expect(
      backupFolderName(new Date('2026-01-09T00:00:00Z')) < backupFolderName(new Date('2026-10-01T00:00:00Z')),
    ).toBe(true);
  });

  it('keeps the newest, removes older ones and partial folders older than the newest, and nothing else', async () => {
    const names = ['20261201T000000Z', '20261202T000000Z', '20261203T000000Z', '20261204T000000Z'];
    for (const name of names) await mkdir(join(dir, name));
    await mkdir(join(dir, '.partial-20261201T120000Z')); // an interrupted run
    await mkdir(join(dir, '.partial-20261205T000000Z')); // a run going on now
    await mkdir(join(dir, 'mine'));
    await writeFile(join(dir, '20261130T000000Z'), 'a file, not a folder');
    const removed = await pruneBackups(dir, 2);
    expect(removed.sort()).toEqual(['.partial-20261201T120000Z', '20261201T000000Z', '20261202T000000Z']);
    expect((await readdir(dir)).sort()).toEqual(
      [
        '.partial-20261205T000000Z',
        '20261130T000000Z',
        '20261203T000000Z',
        '20261204T000000Z',
        'mine',
      ].sort(),
    );
  });

  it('a file is written whole or not at all', async () => {
    const file = join(dir, 'x.car');
    async function* broken() {
      yield Buffer.from('half');
      throw new Error('connection reset');
    }
    await expect(writeWhole(file, broken())).rejects.toThrow('connection reset');
    expect(await readdir(dir)).toEqual([]);
    async function* whole() {
      yield Buffer.from('all ');
      yield Buffer.from('of it');
    }
    expect(await writeWhole(file, whole())).toBe(9);
    expect(await readdir(dir)).toEqual(['x.car']);
  });
});
