import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DsmError, encode, idOf, idOfBytes, nodeBackend } from '@dsm/protocol';
import type { Store } from '@dsm/runtime';
import { Directory } from './directory.js';
import { openTempStore, Signer, type TempStore } from '@dsm/testkit';

const OPTIONS = { backend: nodeBackend, maxObjectBytes: 262_144 };

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore('dsm-directory-');
  ({ store } = temp);
});

afterEach(() => temp.close());

/** A store whose next batch writes can be held, then let through or failed. */
function holdable(real: Store) {
  let held: { started: () => void; outcome: Promise<'write' | 'fail'> } | null = null;
  const proxy = new Proxy(real, {
    get(target, prop) {
      if (prop === 'batch') {
        return () => {
          const batch = target.batch();
          const write = batch.write.bind(batch);
          const hold = held;
          if (hold === null) return batch;
          batch.write = async (options) => {
            hold.started();
            if ((await hold.outcome) === 'fail') throw new Error('disk full');
            return write(options);
          };
          return batch;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  /** Holds every batch written from now on; resolves `started` once one is being written. */
  const hold = () => {
    let decide!: (outcome: 'write' | 'fail') => void;
    let started!: () => void;
    const writing = new Promise<void>((resolve) => (started = resolve));
    held = { started, outcome: new Promise((resolve) => (decide = resolve)) };
    return {
      writing,
      decide: (outcome: 'write' | 'fail') => {
        held = null;
        decide(outcome);
      },
    };
  };
  return { store: proxy, hold };
}

describe('the directory during a replication page', () => {
  it('serves durable data only: a page being written is invisible until it is on disk, a failed one never', async () => {
    const { store: held, hold } = holdable(store);
    const directory = await Directory.open(held, OPTIONS);
    const a = new Signer();
    const objects: unknown[] = [...a.opening()];
    const { objects: tokenObjects, tokenId } = a.token([], 1000n);
    objects.push(...tokenObjects);
    const page = objects.map((o) => encode(o));
    const genesisId = idOfBytes(page[0]!);
    const state0 = idOf((objects[1] as { state: unknown }).state);
    const createId = idOf((objects[4] as { state: unknown }).state);

    const nothingVisible = async () => {
      expect(await directory.get(genesisId)).toBeNull();
      expect(await directory.genesis(a.identity)).toBeUndefined();
      expect(await directory.head(a.identity)).toBeNull();
      expect(await directory.stateIdAt(a.identity, 0)).toBeUndefined();
      expect(await directory.signedState(state0)).toBeUndefined();
      expect(await directory.creation(tokenId)).toBeUndefined();
      expect(await directory.log(0n, 100, Number.MAX_SAFE_INTEGER)).toEqual([]);
    };

    // A page that fails: while its batch is being written, and after, nothing of it is seen.
    const failing = hold();
    const failed = directory.ingestMany(page);
    await failing.writing;
    await nothingVisible();
    failing.decide('fail');
    await expect(failed).rejects.toThrow('disk full');
    await nothingVisible();

    // The same page again, written: invisible while pending, all of it visible once on disk.
    const writing = hold();
    const written = directory.ingestMany(page);
    await writing.writing;
    await nothingVisible();
    writing.decide('write');
    const results = await written;
    expect(results.every((r) => !(r instanceof DsmError) && r.stored)).toBe(true);
    expect(await directory.get(genesisId)).toEqual(page[0]);
    expect(await directory.head(a.identity)).toEqual({ stateId: createId, n: 1 });
    expect(String(await directory.stateIdAt(a.identity, 0))).toBe(state0.toString());
    expect(String(await directory.creation(tokenId))).toBe(createId.toString());
    expect((await directory.log(0n, 100, Number.MAX_SAFE_INTEGER)).length).toBe(page.length);
  });
});
