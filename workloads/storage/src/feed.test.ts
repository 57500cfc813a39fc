import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import { encode, idOf, idOfBytes, nodeBackend, type CID } from '@dsm/protocol';
import type { Store } from '@dsm/runtime';
import { bucketOf } from './digest.js';
import { Directory } from './directory.js';
import { LOG_EVIDENCE, LOG_OBJECT } from './journal.js';
import { keys } from './keys.js';
import { openTempStore, Signer, type TempStore } from '@dsm/testkit';

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore('dsm-feed-');
  ({ store } = temp);
});

afterEach(() => temp.close());

/** A's genesis, state 0, a token (policy, definition, create), a transfer; then a fork candidate of it. */
async function setUp() {
  const directory = await Directory.open(store, { backend: nodeBackend, maxObjectBytes: 262_144 });
  const a = new Signer();
  const objects: unknown[] = [...a.opening()];
  const { objects: tokenObjects, tokenId } = a.token([], 1000n);
  objects.push(...tokenObjects);
  const created = a.head;
  objects.push(a.next({ kind: 'token.transfer', token: tokenId, amount: '1', to: a.identity }));
  const accepted = objects.map((o) => encode(o));
  for (const bytes of accepted) await directory.ingest(bytes);
  a.head = created;
  const fork = encode(a.next({ kind: 'token.burn', token: tokenId, amount: '1' }));
  await expect(directory.ingest(fork)).rejects.toMatchObject({ code: 'E_FORK' });
  const ids = objects.map((o, i) =>
    (o as { type: string }).type === 'dsm/signed-state@1'
      ? idOf((o as { state: unknown }).state)
      : idOfBytes(accepted[i]!),
  );
  return { directory, a, accepted, ids, fork, forkId: idOf(a.head) };
}

const texts = (ids: CID[]) => ids.map(String);

/** `real` behind a counter of the keys it reads (point reads and entries iterated). */
function counting(real: Store) {
  const counter = { reads: 0 };
  const proxy = new Proxy(real, {
    get(target, prop) {
      if (prop === 'get')
        return (key: Uint8Array) => {
          counter.reads++;
          return target.get(key);
        };
      if (prop === 'getMany')
        return (list: readonly Uint8Array[]) => {
          counter.reads += list.length;
          return target.getMany(list);
        };
      if (prop === 'iterate' || prop === 'prefix')
        return async function* (...args: unknown[]) {
          const entries = (target[prop] as (...a: unknown[]) => AsyncGenerator<unknown>).apply(target, args);
          for await (const entry of entries) {
            counter.reads++;
            yield entry;
          }
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, counter };
}

describe('the replication feed', () => {
  it('serves the log in order, in pages bounded by count and bytes, evidence as the candidate bytes', async () => {
    const { directory, accepted, ids, fork, forkId } = await setUp();
    const all = await directory.log(0n, 100, Number.MAX_SAFE_INTEGER);
    expect(all.map((e) => e.seq)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
    expect(all.map((e) => e.kind)).toEqual([...ids.map(() => LOG_OBJECT), LOG_EVIDENCE]);
    expect(texts(all.map((e) => e.id))).toEqual(texts([...ids, forkId]));
    expect(all.map((e) => e.bytes)).toEqual([...accepted, fork]);
    // Pages: after a seq, at most `limit` entries, ending with the one that reaches `maxBytes`.
    expect((await directory.log(2n, 2, Number.MAX_SAFE_INTEGER)).map((e) => e.seq)).toEqual([3n, 4n]);
    expect((await directory.log(0n, 100, 1)).map((e) => e.seq)).toEqual([1n]);
    const twoObjects = accepted[0]!.length + accepted[1]!.length;
    expect((await directory.log(0n, 100, twoObjects)).map((e) => e.seq)).toEqual([1n, 2n]);
    expect(await directory.log(7n, 100, Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(directory.lastSeq).toBe(7n);
  });

  it('lists digest buckets, finds what is missing, and serves the bytes of objects and evidence', async () => {
    const { directory, accepted, ids, fork, forkId } = await setUp();
    const held = [...ids, forkId];
    for (const id of held) expect(texts(await directory.bucket(bucketOf(id)))).toContain(id.toString());
    const listed = new Set<string>();
    for (const bucket of new Set(held.map(bucketOf)))
      for (const id of await directory.bucket(bucket)) listed.add(id.toString());
    expect([...listed].sort()).toEqual(texts(held).sort());

    const unknown = idOfBytes(Uint8Array.of(1, 2, 3));
    expect(texts(await directory.missing([...held, unknown]))).toEqual([unknown.toString()]);
    expect(await directory.anyBytes(ids[0]!)).toEqual(accepted[0]);
    expect(await directory.anyBytes(forkId)).toEqual(fork);
    expect(await directory.get(forkId)).toBeNull(); // evidence is not an accepted object
    expect(await directory.anyBytes(unknown)).toBeNull();
  });

  it('tallies and digest: every id held, by type, and the forks', async () => {
    const { directory, accepted } = await setUp();
    const stats = directory.stats();
    expect(stats).toEqual({
      objects: 7,
      bytes: accepted.reduce((sum, b) => sum + b.length, 0),
      byType: { 'dsm/genesis@1': 1, 'dsm/signed-state@1': 3, 'dsm/policy@1': 1, 'dsm/token@1': 1 },
      forks: 1,
      lastSeq: 7n,
    });
    expect(directory.digestSummary().count).toBe(7);
    const reopened = await Directory.open(store, { backend: nodeBackend, maxObjectBytes: 262_144 });
    expect(reopened.stats()).toEqual(stats);
    expect(reopened.digestSummary()).toEqual(directory.digestSummary());
  });

  it('finds one evidence record in O(1) reads, however many there are, in an old directory too', async () => {
    const { directory, ids, fork, forkId } = await setUp();
    // Many fork candidates of other identities, written as a directory before the index did (no index).
    const many = 300;
    const fakes: { candidate: CID; bytes: Uint8Array }[] = [];
    const old = store.batch();
    for (let i = 0; i < many; i++) {
      const identity = idOfBytes(encode({ identity: i }));
      const candidate = idOfBytes(encode({ candidate: i }));
      const bytes = encode({ fake: i });
      fakes.push({ candidate, bytes });
      old.put(keys.evidence(identity, candidate), dagCbor.encode({ existing: ids[0]!, n: 1, bytes }));
      old.put(keys.forked(identity), ids[0]!.bytes);
    }
    await old.write({ sync: true });
    const before = await directory.log(0n, 100, Number.MAX_SAFE_INTEGER);

    const { store: counted, counter } = counting(store);
    const reopened = await Directory.open(counted, { backend: nodeBackend, maxObjectBytes: 262_144 });
    counter.reads = 0;
    expect(await reopened.anyBytes(forkId)).toEqual(fork);
    expect(await reopened.anyBytes(fakes[123]!.candidate)).toEqual(fakes[123]!.bytes);
    expect(counter.reads).toBeLessThanOrEqual(8);

    // A log page serving the evidence entry reads the entry and its record, not every record.
    counter.reads = 0;
    const page = await reopened.log(6n, 1, Number.MAX_SAFE_INTEGER);
    expect(page).toEqual(before.slice(6));
    expect(page[0]!.bytes).toEqual(fork);
    expect(counter.reads).toBeLessThanOrEqual(4);

    // A bucket listing reads that bucket's ids only, and lists the same ids as before.
    const held = [...ids, forkId, ...fakes.map((f) => f.candidate)];
    for (const bucket of new Set([bucketOf(forkId), bucketOf(fakes[7]!.candidate)])) {
      const expected = held.filter((id) => bucketOf(id) === bucket);
      counter.reads = 0;
      const listed = await reopened.bucket(bucket);
      expect(texts(listed).sort()).toEqual(texts(expected).sort());
      expect(counter.reads).toBeLessThanOrEqual(expected.length + 2);
    }
    expect(reopened.digestSummary().count).toBe(held.length);

    // The index built at open is kept: opened once more, nothing is missing from it.
    expect(await store.get(keys.evidenceByCandidate(fakes[0]!.candidate))).toEqual(
      keys.evidence(idOfBytes(encode({ identity: 0 })), fakes[0]!.candidate),
    );
    const again = await Directory.open(store, { backend: nodeBackend, maxObjectBytes: 262_144 });
    for (const { candidate, bytes } of fakes.slice(0, 10))
      expect(await again.anyBytes(candidate)).toEqual(bytes);
    expect(await again.anyBytes(forkId)).toEqual(fork);
  });
});
