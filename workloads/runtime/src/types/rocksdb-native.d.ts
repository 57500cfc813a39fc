// The part of rocksdb-native (which ships no types) that store.ts uses, checked against its
// lib/*.js for version 3.18.
declare module 'rocksdb-native' {
  namespace RocksDB {
    interface OpenOptions {
      readOnly?: boolean;
      createIfMissing?: boolean;
    }

    interface IteratorOptions {
      gt?: Uint8Array;
      gte?: Uint8Array;
      lt?: Uint8Array;
      lte?: Uint8Array;
      reverse?: boolean;
      limit?: number;
    }

    interface ReadBatch {
      get(key: Uint8Array): Promise<Buffer | null>;
      tryFlush(): void;
    }

    /** Holds a reference on the database until destroy(): a forgotten one makes close() hang. */
    interface WriteBatch {
      tryPut(key: Uint8Array, value: Uint8Array): void;
      tryDelete(key: Uint8Array): void;
      flush(): Promise<void>;
      destroy(): void;
    }
  }

  class RocksDB {
    constructor(path: string, options?: RocksDB.OpenOptions);
    readonly closed: boolean;
    ready(): Promise<void>;
    close(): Promise<void>;
    get(key: Uint8Array): Promise<Buffer | null>;
    read(options?: { autoDestroy?: boolean; capacity?: number }): RocksDB.ReadBatch;
    write(options?: { autoDestroy?: boolean; capacity?: number }): RocksDB.WriteBatch;
    /** A session reading from a point-in-time snapshot; close() releases it. */
    snapshot(): RocksDB;
    iterator(range: RocksDB.IteratorOptions): AsyncIterable<{ key: Buffer; value: Buffer }>;
    /** Flushes the memtable to an SST file (fsync'd, recorded in the fsync'd MANIFEST). */
    flush(): Promise<void>;
  }

  export default RocksDB;
}
