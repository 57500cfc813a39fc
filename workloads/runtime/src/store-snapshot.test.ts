import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CarBlockIterator } from '@ipld/car/iterator';
import { CarWriter } from '@ipld/car/writer';
import { isDsmError, type CID } from '@dsm/protocol';
import { Store } from './store.js';
import {
  decodeStoreSnapshotManifest,
  discardUnfinishedRestore,
  isEmptyStore,
  RESTORE_MARKER,
  restoreStoreSnapshot,
  storeSnapshot,
} from './store-snapshot.js';

let dir: string;
let stores: Store[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsm-snapshot-'));
  stores = [];
});
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function open(name: string): Promise<Store> {
  const store = await Store.open(join(dir, name));
  stores.push(store);
  return store;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function entriesOf(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const { key, value } of store.iterate())
    out.push(`${key.toString('hex')}=${value.toString('hex')}`);
  return out;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function rewrite(file: Uint8Array, change: (blocks: { cid: CID; bytes: Uint8Array }[]) => void) {
  const car = await CarBlockIterator.fromBytes(file);
  const blocks: { cid: CID; bytes: Uint8Array }[] = [];
  for await (const block of car) blocks.push(block as { cid: CID; bytes: Uint8Array });
  change(blocks);
  const { writer, out } = CarWriter.create(await car.getRoots());
  const written = collect(out);
  for (const block of blocks) await writer.put(block);
  await writer.close();
  return written;
}

/** A store with small and large values (over one block), as a core's keystore and records would be. */
async function filled(): Promise<Store> {
  const store = await open('source');
  const batch = store.batch();
  for (let i = 0; i < 3000; i++) batch.put(Buffer.from(`pending\0${i}`), randomBytes(100 + (i % 700)));
  batch.put(Buffer.from('big'), randomBytes(1_500_000));
  await batch.write({ sync: true });
  return store;
}

const service = { service: 'dsm-core', nodeId: 'core-0', createdAt: new Date('2026-12-02T00:00:00Z') };

describe('store snapshots', () => {
  it('restore into an empty store gives back every entry, byte for byte, and writes after the snapshot are not in it', async () => {
    const source = await filled();
    const snapshot = await storeSnapshot(source, service);
    await source.batch().put(Buffer.from('later'), Buffer.from('x')).write();
    const file = await collect(snapshot.bytes);
    expect(snapshot.manifest).toMatchObject({ service: 'dsm-core', nodeId: 'core-0', entries: 3001 });
    expect(snapshot.manifest.blocks.length).toBeGreaterThan(2);
    const target = await open('target');
    const manifest = await restoreStoreSnapshot(target, once(file), { service: 'dsm-core' });
    expect(manifest).toEqual(snapshot.manifest);
    const expected = (await entriesOf(source)).filter(
      (e) => !e.startsWith(Buffer.from('later').toString('hex')),
    );
    expect(await entriesOf(target)).toEqual(expected);
  });

  it('refuses an altered, shortened or foreign snapshot and leaves the store empty', async () => {
    const source = await filled();
    const file = await collect((await storeSnapshot(source, service)).bytes);
    const flipped = Uint8Array.from(file);
    flipped[flipped.length - 10]! ^= 1;
    const cases: [string, Uint8Array, string | RegExp, string][] = [
      ['one byte changed', flipped, /does not match its id/, 'dsm-core'],
      ['truncated', file.subarray(0, file.length - 5000), /truncated|malformed/, 'dsm-core'],
      ['a block removed', await rewrite(file, (b) => b.splice(2, 1)), /not the manifest's block/, 'dsm-core'],
      [
        'the last block removed',
        await rewrite(file, (b) => b.pop()),
        /blocks where its manifest lists/,
        'dsm-core',
      ],
      ['another service', file, /cannot be restored into dsm-bridge/, 'dsm-bridge'],
      ['not a CAR', Buffer.from('hello'), /not a CAR/, 'dsm-core'],
    ];
    const target = await open('target');
    for (const [what, bytes, message, into] of cases) {
      const error = await restoreStoreSnapshot(target, once(bytes), { service: into }).catch(
        (e: unknown) => e,
      );
      expect([what, isDsmError(error, 'E_BACKUP')]).toEqual([what, true]);
      expect((error as Error).message).toMatch(message);
      expect([what, await isEmptyStore(target)]).toEqual([what, true]);
    }
    await restoreStoreSnapshot(target, once(file), { service: 'dsm-core' });
    const again = await restoreStoreSnapshot(target, once(file), { service: 'dsm-core' }).catch(
      (e: unknown) => e,
    );
    expect(isDsmError(again, 'E_CONFLICT')).toBe(true);
  });

  it('a failed restore empties the store; at open, one cut short (marker left by a crash) is emptied too', async () => {
    const source = await filled();
    const file = await collect((await storeSnapshot(source, service)).bytes);
    const target = await open('target');
    async function* half() {
      yield file.subarray(0, file.length >> 1);
      throw new Error('connection lost');
    }
    await expect(restoreStoreSnapshot(target, half(), { service: 'dsm-core' })).rejects.toThrow(/lost/);
    expect(await isEmptyStore(target)).toBe(true);
    // What a crash leaves: the marker and part of the entries.
    await target
      .batch()
      .put(RESTORE_MARKER, Uint8Array.of(1))
      .put(Buffer.from('pending\u00001'), Buffer.from('x'))
      .write();
    expect(await discardUnfinishedRestore(target)).toBe(true);
    expect(await isEmptyStore(target)).toBe(true);
    // A store without the marker is left alone.
    expect(await discardUnfinishedRestore(source)).toBe(false);
    expect((await entriesOf(source)).length).toBe(3001);
    expect(decodeStoreSnapshotManifest(await firstBlock(file)).entries).toBe(3001);
  });
});

async function firstBlock(file: Uint8Array): Promise<Uint8Array> {
  for await (const block of await CarBlockIterator.fromBytes(file)) return block.bytes;
  throw new Error('no blocks');
}
