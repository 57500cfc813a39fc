import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { key, keyPrefix, readU64be, u64be } from './keys.js';
import { Store, type Entry } from './store.js';

const b = (text: string) => Buffer.from(text);

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsm-store-'));
  store = await Store.open(join(dir, 'db'));
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function collect(entries: AsyncIterable<Entry>): Promise<string[]> {
  const out: string[] = [];
  for await (const { key, value } of entries) out.push(`${key.toString()}=${value.toString()}`);
  return out;
}

describe('Store', () => {
  it('reads back what a batch wrote, and null for absent keys', async () => {
    await store.batch().put(b('a'), b('1')).put(b('b'), b('2')).write();
    expect(await store.get(b('a'))).toEqual(b('1'));
    expect(await store.get(b('zz'))).toBeNull();
    expect(await store.getMany([b('b'), b('zz'), b('a')])).toEqual([b('2'), null, b('1')]);
    expect(await store.getMany([])).toEqual([]);
  });

  it('applies puts and deletes of one batch in order, all together', async () => {
    await store.batch().put(b('k'), b('old')).put(b('gone'), b('x')).write();
    const batch = store.batch().put(b('k'), b('new')).delete(b('gone')).put(b('k2'), b('v')).delete(b('k2'));
    expect(batch.size).toBe(4);
    await batch.write({ sync: true });
    expect(await store.getMany([b('k'), b('gone'), b('k2')])).toEqual([b('new'), null, null]);
    await expect(batch.write()).rejects.toThrow(/already written/);
  });

  it('never exposes half a batch to concurrent readers', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => key('item', u64be(i)));
    let done = false;
    const observed = new Set<number>();
    const reader = (async () => {
      while (!done) {
        const values = await store.getMany(keys);
        observed.add(values.filter((v) => v !== null).length);
      }
    })();
    for (let round = 0; round < 20; round++) {
      const batch = store.batch();
      for (const k of keys) {
        if (round % 2 === 0) batch.put(k, u64be(round));
        else batch.delete(k);
      }
      await batch.write();
    }
    done = true;
    await reader;
    expect([...observed].sort((x, y) => x - y)).toEqual([0, keys.length]);
  });

  it('iterates in bytewise key order with bounds, reverse and limit', async () => {
    const batch = store.batch();
    for (const k of ['b', 'a', 'd', 'c', 'e']) batch.put(b(k), b(k.toUpperCase()));
    await batch.write();

    expect(await collect(store.iterate())).toEqual(['a=A', 'b=B', 'c=C', 'd=D', 'e=E']);
    expect(await collect(store.iterate({ gt: b('a'), lte: b('d') }))).toEqual(['b=B', 'c=C', 'd=D']);
    expect(await collect(store.iterate({ gte: b('b'), lt: b('d') }))).toEqual(['b=B', 'c=C']);
    expect(await collect(store.iterate({ reverse: true, limit: 2 }))).toEqual(['e=E', 'd=D']);
    expect(await collect(store.iterate({ gte: b('c'), reverse: true }))).toEqual(['e=E', 'd=D', 'c=C']);
    expect(await collect(store.iterate({ limit: 0 }))).toEqual([]);
  });

  it('orders u64 keys numerically and scans a prefix only', async () => {
    const batch = store.batch();
    for (const n of [300, 2, 70000, 1, 256]) batch.put(key('seq', u64be(n)), b(String(n)));
    batch.put(key('seqx'), b('outside')).put(key('other', 'z'), b('outside'));
    await batch.write();

    const seen: bigint[] = [];
    for await (const entry of store.prefix(keyPrefix('seq')))
      seen.push(readU64be(entry.key, keyPrefix('seq').length));
    expect(seen).toEqual([1n, 2n, 256n, 300n, 70000n]);

    const last = [];
    for await (const entry of store.prefix(keyPrefix('seq'), { reverse: true, limit: 1 }))
      last.push(entry.value.toString());
    expect(last).toEqual(['70000']);
  });

  it('scans a prefix made only of 0xff bytes', async () => {
    await store
      .batch()
      .put(Buffer.from([0xff, 0xff, 1]), b('x'))
      .put(Buffer.from([0xfe]), b('y'))
      .write();
    expect(await collect(store.prefix(Buffer.from([0xff, 0xff])))).toHaveLength(1);
  });

  it('lets a loop stop early without keeping the database open', async () => {
    const batch = store.batch();
    for (let i = 0; i < 100; i++) batch.put(key('n', u64be(i)), b('v'));
    await batch.write();
    let count = 0;
    for await (const _entry of store.iterate()) {
      if (++count === 3) break;
    }
    expect(count).toBe(3);
    // An iterator that is created but never started holds nothing either.
    store.iterate();
    await store.close(); // would hang if a native iterator were still referenced
  });

  it('gives snapshots a consistent view, isolated from later writes', async () => {
    await store.batch().put(b('x'), b('1')).put(b('y'), b('1')).write();
    const snapshot = store.snapshot();
    await store.batch().put(b('x'), b('2')).delete(b('y')).put(b('z'), b('2')).write();

    expect(await snapshot.get(b('x'))).toEqual(b('1'));
    expect(await snapshot.getMany([b('y'), b('z')])).toEqual([b('1'), null]);
    expect(await collect(snapshot.iterate())).toEqual(['x=1', 'y=1']);
    expect(await collect(store.iterate())).toEqual(['x=2', 'z=2']);
    await snapshot.release();
  });

  it('closes while a snapshot is still held', async () => {
    await store.batch().put(b('x'), b('1')).write();
    const snapshot = store.snapshot();
    expect(await snapshot.get(b('x'))).toEqual(b('1'));
    await store.close();
  });

  it('persists across close and reopen', async () => {
    await store.batch().put(b('durable'), b('yes')).write({ sync: true });
    await store.batch().put(b('plain'), b('also')).write();
    await store.close();

    store = await Store.open(join(dir, 'db'));
    expect(await store.getMany([b('durable'), b('plain')])).toEqual([b('yes'), b('also')]);
  });

  it('makes synced writes durable through the WAL, without a memtable flush per write', async () => {
    const ssts = async () => (await readdir(join(dir, 'db'))).filter((f) => f.endsWith('.sst')).length;
    const before = await ssts();
    const rounds = store.syncRounds;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store
          .batch()
          .put(b(`k${i}`), b('v'))
          .write({ sync: true }),
      ),
    );
    expect(await ssts()).toBe(before);
    // Group commit: fifty concurrent durable writes share far fewer fsync rounds.
    expect(store.syncRounds - rounds).toBeGreaterThan(0);
    expect(store.syncRounds - rounds).toBeLessThan(50);
  });

  it('applies many concurrent batches, synced or not, without losing one', async () => {
    const writes = Array.from({ length: 200 }, (_, i) =>
      store
        .batch()
        .put(key('w', u64be(i)), u64be(i))
        .put(key('last'), u64be(i))
        .write({ sync: i % 3 === 0 }),
    );
    await Promise.all(writes);
    let count = 0;
    for await (const entry of store.prefix(keyPrefix('w'))) {
      expect(readU64be(entry.value)).toBe(BigInt(count));
      count++;
    }
    expect(count).toBe(200);
    expect(await store.get(key('last'))).not.toBeNull();
  });

  it('refuses to open a database another store holds', async () => {
    await expect(Store.open(join(dir, 'db'))).rejects.toThrow(/cannot open RocksDB at/);
  });

  it('skips the native write for an empty batch', async () => {
    await store.batch().write({ sync: true });
    expect(await collect(store.iterate())).toEqual([]);
  });
});
