/**
 * The directory's write journal: every accepted object (and every fork candidate kept as evidence) takes the
 * next log sequence number and is written together with its log entry in one atomic, fsync'd batch. A seq
 * is in flight from when it is taken until its batch is on disk (or failed): the log is served only below
 * the lowest seq in flight, so a peer never reads past an entry that may still land. A page (catch-up from a
 * peer) gathers many commits into one durable batch, visible before it is written only to the page's own
 * work (its async context): every other reader (API GETs, the log) sees durable data only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { idFromBytes, toHex, type CID } from '@dsm/protocol';
import { readU64be, type Store, type WriteBatch } from '@dsm/runtime';
import { Gate } from './gate.js';
import { keys } from './keys.js';

export type Put = [key: Buffer, value: Uint8Array];

export interface LogEntry {
  seq: bigint;
  /** 0: an accepted object; 1: a fork candidate kept as evidence. */
  kind: 0 | 1;
  id: CID;
}

export const LOG_OBJECT = 0;
export const LOG_EVIDENCE = 1;

/** The log entry of `id` at `seq`: its kind byte and id bytes. */
export function logPut(seq: bigint, kind: LogEntry['kind'], id: CID): Put {
  return [keys.log(seq), Buffer.concat([Uint8Array.of(kind), id.bytes])];
}

/** A log entry read back from the store. */
export function logEntryOf(key: Buffer, value: Uint8Array): LogEntry {
  return { seq: readU64be(key, key.length - 8), kind: value[0] as 0 | 1, id: idFromBytes(value.subarray(1)) };
}

/** Writes of a replication page: applied in one durable batch, visible to the page's own reads first. */
class Page {
  readonly pending = new Map<string, Uint8Array>();
  /** Object keys (hex) known absent from disk when the page started: no need to ask the store again. */
  readonly absent = new Set<string>();
  /** What the page's own work caches (heads, creations...) until its batch is on disk: see Journal.local. */
  readonly local = new Map<string, unknown>();
  readonly after: (() => void)[] = [];
  readonly seqs: bigint[] = [];
  constructor(readonly batch: WriteBatch) {}
}

/** The page whose work is running in the current async context (none for every other reader). */
const pageContext = new AsyncLocalStorage<Page>();

export class Journal {
  private readonly gate = new Gate();
  private page: Page | null = null;
  private readonly inflight = new Set<bigint>();

  private constructor(
    readonly store: Store,
    private nextSeq: bigint,
  ) {}

  /** Opens the journal after the last log entry on disk. */
  static async open(store: Store): Promise<Journal> {
    let nextSeq = 1n;
    for await (const { key } of store.prefix(keys.logPrefix(), { reverse: true, limit: 1 }))
      nextSeq = readU64be(key, keys.logPrefix().length) + 1n;
    return new Journal(store, nextSeq);
  }

  /** Runs an ordinary write: side by side with other ordinary writes, never during a page. */
  shared<T>(work: () => Promise<T>): Promise<T> {
    return this.gate.shared(work);
  }

  /**
   * Runs `work` alone as one page: its commits go into one durable batch written when it returns, their
   * `after` effects run once that is on disk. If anything fails, `rollback` runs (the caches that the page's
   * commits filled hold writes that did not land) and the error is rethrown.
   */
  inPage<T>(work: () => Promise<T>, rollback: () => Promise<void>): Promise<T> {
    return this.gate.exclusively(async () => {
      const page = new Page(this.store.batch());
      this.page = page;
      try {
        const result = await pageContext.run(page, work);
        await page.batch.write({ sync: true });
        for (const effect of page.after) effect();
        return result;
      } catch (e) {
        await rollback();
        throw e;
      } finally {
        for (const seq of page.seqs) this.inflight.delete(seq);
        this.page = null;
      }
    });
  }

  /** The page being applied, if the caller is its own work (not any other reader). */
  private own(): Page | null {
    const page = this.page;
    return page !== null && pageContext.getStore() === page ? page : null;
  }

  /**
   * For the page's own work: a cache local to the page (what its commits did to the in-memory caches, which
   * no other reader may see before the batch is on disk). Undefined for every other caller.
   */
  local(): Map<string, unknown> | undefined {
    return this.own()?.local;
  }

  /** Runs `effect` now, or, for the page's own work, once the page's batch is on disk (never if it fails). */
  whenDurable(effect: () => void): void {
    const page = this.own();
    if (page === null) effect();
    else page.after.push(effect);
  }

  /** Within a page: one MultiGet tells which of `objectKeys` are absent, so reading them asks the store no more. */
  async preload(objectKeys: Buffer[]): Promise<void> {
    const page = this.own();
    if (page === null) return;
    const present = await this.store.getMany(objectKeys);
    for (const [i, key] of objectKeys.entries()) if (present[i] === null) page.absent.add(toHex(key));
  }

  /**
   * A read of durable data; the page's own work also sees the page's writes (nobody else does: a page that
   * fails is never seen).
   */
  async read(key: Buffer): Promise<Uint8Array | null> {
    const page = this.own();
    if (page === null) return this.store.get(key);
    const hex = toHex(key);
    return page.pending.get(hex) ?? (page.absent.has(hex) ? null : await this.store.get(key));
  }

  /**
   * Takes the next log sequence number, writes `build(seq)` durably (or into the current page), updates the
   * in-memory caches with `cache` as soon as later reads must see the write (in a page, `cache` runs in the
   * page's context: see `local` and `whenDurable`), and runs `after` once it is on disk. Until then the seq
   * is in flight: the log is served only up to the lowest seq still in flight, so a peer never reads past an
   * entry that may still land.
   */
  async commit(
    build: (seq: bigint) => Put[],
    cache: () => void,
    after: (seq: bigint) => void,
  ): Promise<void> {
    const seq = this.nextSeq++;
    this.inflight.add(seq);
    const puts = build(seq);
    if (this.page) {
      for (const [key, value] of puts) {
        this.page.pending.set(toHex(key), value);
        this.page.batch.put(key, value);
      }
      cache();
      this.page.seqs.push(seq);
      this.page.after.push(() => after(seq));
      return;
    }
    try {
      const batch = this.store.batch();
      for (const [key, value] of puts) batch.put(key, value);
      await batch.write({ sync: true });
    } finally {
      this.inflight.delete(seq);
    }
    cache();
    after(seq);
  }

  /** The highest seq below which every log entry is on disk (what the log may serve). */
  get lastSeq(): bigint {
    let lowest = this.nextSeq;
    for (const seq of this.inflight) if (seq < lowest) lowest = seq;
    return lowest - 1n;
  }
}
