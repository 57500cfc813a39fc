import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { idOfBytes } from '@dsm/protocol';
import type { Store } from '@dsm/runtime';
import { Journal, LOG_EVIDENCE, LOG_OBJECT, logEntryOf, logPut, type Put } from './journal.js';
import { keys } from './keys.js';
import { openTempStore, type TempStore } from '@dsm/testkit';

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore('dsm-journal-');
  ({ store } = temp);
});

afterEach(() => temp.close());

const b = (text: string) => Buffer.from(text);
const id = (i: number) => idOfBytes(Uint8Array.of(i));
/** One object's writes: a record and its log entry. */
const writes =
  (name: string) =>
  (seq: bigint): Put[] => [
    [b(`test\0${name}`), b(`value of ${name}`)],
    logPut(seq, LOG_OBJECT, id(Number(seq))),
  ];
const nothing = () => undefined;

describe('Journal', () => {
  it('numbers commits 1, 2, 3 and, reopened, continues after the last log entry on disk', async () => {
    const journal = await Journal.open(store);
    const seqs: bigint[] = [];
    for (const name of ['a', 'b', 'c'])
      await journal.commit(
        (seq) => {
          seqs.push(seq);
          return writes(name)(seq);
        },
        nothing,
        nothing,
      );
    expect(seqs).toEqual([1n, 2n, 3n]);
    expect(journal.lastSeq).toBe(3n);
    expect(await store.get(b('test\0b'))).toEqual(b('value of b'));

    const reopened = await Journal.open(store);
    expect(reopened.lastSeq).toBe(3n);
    let next = 0n;
    await reopened.commit(
      (seq) => {
        next = seq;
        return writes('d')(seq);
      },
      nothing,
      nothing,
    );
    expect(next).toBe(4n);
  });

  it('serves the log only below a commit in flight; cache and after run once it is on disk', async () => {
    const journal = await Journal.open(store);
    const events: string[] = [];
    const first = journal.commit(
      writes('a'),
      () => events.push('cache a'),
      (seq) => events.push(`after ${seq}`),
    );
    const second = journal.commit(writes('b'), nothing, (seq) => events.push(`after ${seq}`));
    // Both seqs are taken and in flight: nothing may be served yet.
    expect(journal.lastSeq).toBe(0n);
    expect(events).toEqual([]);
    await Promise.all([first, second]);
    expect(journal.lastSeq).toBe(2n);
    expect(events).toContain('cache a');
    expect(events.indexOf('cache a')).toBeLessThan(events.indexOf('after 1'));
    expect([...events].filter((e) => e.startsWith('after')).sort()).toEqual(['after 1', 'after 2']);
  });

  it('a page: its commits are read back before they are on disk, and take effect once its batch is written', async () => {
    const journal = await Journal.open(store);
    const afters: bigint[] = [];
    const cached: string[] = [];
    let rolledBack = false;
    const result = await journal.inPage(
      async () => {
        await journal.commit(
          writes('a'),
          () => cached.push('a'),
          (seq) => afters.push(seq),
        );
        await journal.commit(
          writes('b'),
          () => cached.push('b'),
          (seq) => afters.push(seq),
        );
        expect(await journal.read(b('test\0a'))).toEqual(b('value of a'));
        expect(await store.get(b('test\0a'))).toBeNull();
        expect(cached).toEqual(['a', 'b']);
        expect(afters).toEqual([]);
        expect(journal.lastSeq).toBe(0n);
        return 'done';
      },
      async () => {
        rolledBack = true;
      },
    );
    expect(result).toBe('done');
    expect(rolledBack).toBe(false);
    expect(afters).toEqual([1n, 2n]);
    expect(journal.lastSeq).toBe(2n);
    expect(await store.get(b('test\0b'))).toEqual(b('value of b'));
    expect(await journal.read(b('test\0b'))).toEqual(b('value of b'));
  });

  it('within a page, keys preloaded as absent are not asked of the store again', async () => {
    const journal = await Journal.open(store);
    await store.batch().put(b('test\0here'), b('1')).write();
    await journal.inPage(
      async () => {
        await journal.preload([b('test\0here'), b('test\0absent')]);
        await store.batch().put(b('test\0absent'), b('late')).write(); // behind the page's back
        expect(await journal.read(b('test\0here'))).toEqual(b('1'));
        expect(await journal.read(b('test\0absent'))).toBeNull();
      },
      async () => undefined,
    );
    // Outside a page every read goes to the store; preloading does nothing.
    expect(await journal.read(b('test\0absent'))).toEqual(b('late'));
    await journal.preload([b('test\0nothing')]);
    expect(await journal.read(b('test\0nothing'))).toBeNull();
  });

  it('a failed page writes nothing, runs no after-effect, rolls back and releases its seqs', async () => {
    const journal = await Journal.open(store);
    const afters: bigint[] = [];
    let rollbacks = 0;
    await expect(
      journal.inPage(
        async () => {
          await journal.commit(writes('a'), nothing, (seq) => afters.push(seq));
          throw new Error('boom');
        },
        async () => {
          rollbacks++;
        },
      ),
    ).rejects.toThrow('boom');
    expect(rollbacks).toBe(1);
    expect(afters).toEqual([]);
    expect(await store.get(b('test\0a'))).toBeNull();
    expect(await store.get(keys.log(1n))).toBeNull();
    // Not held in flight forever: later entries are served (seq 1 is a gap in the log).
    await journal.commit(writes('b'), nothing, nothing);
    expect(journal.lastSeq).toBe(2n);
  });

  it('ordinary writes wait while a page is applied', async () => {
    const journal = await Journal.open(store);
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const page = journal.inPage(
      async () => {
        events.push('page starts');
        await held;
        events.push('page ends');
      },
      async () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const shared = journal.shared(async () => {
      events.push('write');
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(events).toEqual(['page starts']);
    release();
    await Promise.all([page, shared]);
    expect(events).toEqual(['page starts', 'page ends', 'write']);
  });

  it('log entries read back as written', () => {
    const [key, value] = logPut(42n, LOG_EVIDENCE, id(7));
    expect(logEntryOf(key, value)).toEqual({ seq: 42n, kind: LOG_EVIDENCE, id: id(7) });
  });
});
