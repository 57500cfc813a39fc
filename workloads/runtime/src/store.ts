/**
 * The services' key-value store: RocksDB (rocksdb-native) behind a deliberately small surface:
 * point reads, atomic write batches (durable on request), ordered range/prefix iteration and
 * snapshots. Keys and values are bytes; see keys.ts for encoding keys.
 *
 * Resource rule of rocksdb-native: every native batch and iterator holds a reference on the
 * database and `close()` waits for all of them. So native batches live only inside `write()`
 * (always destroyed), and iterators are created lazily and destroyed when the loop ends.
 */
import RocksDB from 'rocksdb-native';
import { prefixUpperBound } from './keys.js';
import { WalSync } from './wal-sync.js';

export interface Entry {
  key: Buffer;
  value: Buffer;
}

export interface RangeOptions {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  /** Largest key first. */
  reverse?: boolean;
  limit?: number;
}

export interface StoreOptions {
  /** Default true. */
  createIfMissing?: boolean;
  readOnly?: boolean;
}

export interface WriteOptions {
  /**
   * Resolve only once the batch is on disk and survives a power loss: the write-ahead log is fdatasync'd
   * (see wal-sync.ts); concurrent sync writers share one fsync.
   */
  sync?: boolean;
}

type Operation = { key: Uint8Array; value: Uint8Array } | { key: Uint8Array; value: undefined };

/** Reads, on the live store or on a snapshot. */
export interface Reader {
  get(key: Uint8Array): Promise<Buffer | null>;
  /** One round trip to RocksDB (MultiGet) for many keys; null where absent, in the order asked. */
  getMany(keys: readonly Uint8Array[]): Promise<(Buffer | null)[]>;
  /** Entries in key order (bytewise) within the bounds. Break out of the loop freely. */
  iterate(range?: RangeOptions): AsyncGenerator<Entry>;
  /** Entries whose key starts with `prefix`. */
  prefix(prefix: Uint8Array, options?: Pick<RangeOptions, 'reverse' | 'limit'>): AsyncGenerator<Entry>;
}

/** A consistent, point-in-time view: later writes are invisible to it. Release it when done. */
export interface Snapshot extends Reader {
  release(): Promise<void>;
}

// Not exported: the native handle stays out of the public types (rocksdb-native has none).
class NativeReader implements Reader {
  constructor(private readonly db: RocksDB) {}

  get(key: Uint8Array): Promise<Buffer | null> {
    return this.db.get(key);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return [];
    const batch = this.db.read({ autoDestroy: true, capacity: keys.length });
    const values = keys.map((key) => batch.get(key));
    batch.tryFlush();
    return Promise.all(values);
  }

  async *iterate(range: RangeOptions = {}): AsyncGenerator<Entry> {
    // Lazy: the native iterator (and its reference on the db) exists only while looping.
    for await (const { key, value } of this.db.iterator({ ...range })) yield { key, value };
  }

  prefix(prefix: Uint8Array, options: Pick<RangeOptions, 'reverse' | 'limit'> = {}): AsyncGenerator<Entry> {
    const upper = prefixUpperBound(prefix);
    return this.iterate({ ...options, gte: prefix, ...(upper === undefined ? {} : { lt: upper }) });
  }
}

class NativeSnapshot extends NativeReader implements Snapshot {
  constructor(private readonly session: RocksDB) {
    super(session);
  }

  async release(): Promise<void> {
    await this.session.close();
  }
}

/** Puts and deletes applied all together or not at all. Buffers must stay unchanged until `write()` resolves. */
export class WriteBatch {
  private readonly operations: Operation[] = [];
  private written = false;

  /** Get batches from `store.batch()`. */
  constructor(private readonly apply: (operations: readonly Operation[], sync: boolean) => Promise<void>) {}

  put(key: Uint8Array, value: Uint8Array): this {
    this.operations.push({ key, value });
    return this;
  }

  delete(key: Uint8Array): this {
    this.operations.push({ key, value: undefined });
    return this;
  }

  get size(): number {
    return this.operations.length;
  }

  async write(options: WriteOptions = {}): Promise<void> {
    if (this.written) throw new Error('write batch already written');
    this.written = true;
    if (this.operations.length > 0) await this.apply(this.operations, options.sync ?? false);
  }
}

export class Store implements Reader {
  private readonly reader: NativeReader;
  private readonly wal: WalSync;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly db: RocksDB,
    readonly dir: string,
  ) {
    this.reader = new NativeReader(db);
    this.wal = new WalSync(dir);
  }

  static async open(dir: string, options: StoreOptions = {}): Promise<Store> {
    const db = new RocksDB(dir, {
      createIfMissing: options.createIfMissing ?? true,
      readOnly: options.readOnly ?? false,
    });
    try {
      await db.ready();
    } catch (err) {
      throw new Error(`cannot open RocksDB at ${dir}: ${(err as Error).message}`, { cause: err });
    }
    return new Store(db, dir);
  }

  get(key: Uint8Array): Promise<Buffer | null> {
    return this.reader.get(key);
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Buffer | null)[]> {
    return this.reader.getMany(keys);
  }

  iterate(range: RangeOptions = {}): AsyncGenerator<Entry> {
    return this.reader.iterate(range);
  }

  prefix(prefix: Uint8Array, options: Pick<RangeOptions, 'reverse' | 'limit'> = {}): AsyncGenerator<Entry> {
    return this.reader.prefix(prefix, options);
  }

  batch(): WriteBatch {
    return new WriteBatch((operations, sync) => this.applyBatch(operations, sync));
  }

  snapshot(): Snapshot {
    return new NativeSnapshot(this.db.snapshot());
  }

  /** Waits for a pending durable flush, releases snapshots and closes the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.wal.close();
      await this.db.close();
    })();
    return this.closing;
  }

  private async applyBatch(operations: readonly Operation[], sync: boolean): Promise<void> {
    const native = this.db.write({ capacity: operations.length });
    try {
      for (const op of operations) {
        if (op.value === undefined) native.tryDelete(op.key);
        else native.tryPut(op.key, op.value);
      }
      await native.flush();
    } finally {
      native.destroy();
    }
    if (sync) await this.wal.sync();
  }

  /** Durable-write rounds so far (fewer than synced batches when writers share them). */
  get syncRounds(): number {
    return this.wal.rounds;
  }
}
