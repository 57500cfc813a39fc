/**
 * A service's whole RocksDB as one consistent snapshot file, and its restore into an empty store: the core
 * node's (keystore entries still encrypted as they are at rest, pending states, request keys, hosted
 * identities) and the bridge's (its steps, cursors and records). The file is a CAR v1 archive. Its root, the
 * first block, is a manifest saying which service wrote it, when, how many entries it holds, and which
 * blocks hold them. Each following block is DAG-CBOR, a list of `[key, value]` byte pairs in key order,
 * named by the id of its bytes. Any change to a block, or a block gone or added, fails the restore.
 *
 * A restore writes a marker first and removes it last: a store that still has the marker at open was cut
 * short, and `discardUnfinishedRestore` empties it again.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CarBlockIterator } from '@ipld/car/iterator';
import { CarWriter } from '@ipld/car/writer';
import { CID, DsmError, idOfBytes } from '@dsm/protocol';
import type { Reader, Store } from './store.js';

export const STORE_SNAPSHOT_FORMAT = 'dsm-store-snapshot@1';

export interface StoreSnapshotManifest {
  format: typeof STORE_SNAPSHOT_FORMAT;
  /** The service whose store this is (`dsm-core`, `dsm-bridge`): restored into the same kind only. */
  service: string;
  nodeId: string;
  createdAt: string;
  entries: number;
  /** Key and value bytes. */
  bytes: number;
  blocks: CID[];
}

/** A block closes once its pairs reach this many bytes (a value larger than that is a block of its own). */
const BLOCK_BYTES = 1 << 20;
/** The largest block a restore reads: a block of one maximal value with its key. */
const MAX_BLOCK_BYTES = 64 << 20;
/** Written first and removed last by a restore: present at open, the restore was cut short. */
export const RESTORE_MARKER = Buffer.from('\xffsnapshot-restore-in-progress', 'latin1');
const MARKER = RESTORE_MARKER;
const WRITE_BATCH = 5000;

const refused = (message: string, details: Record<string, string | number> = {}) =>
  new DsmError('E_BACKUP', message, details);

/** The pairs of a snapshot in blocks, in key order; the same reader gives the same blocks every time. */
async function* pairBlocks(
  reader: Reader,
): AsyncGenerator<{ bytes: Uint8Array; entries: number; size: number }> {
  let pairs: [Uint8Array, Uint8Array][] = [];
  let size = 0;
  const close = () => {
    const block = { bytes: dagCbor.encode(pairs), entries: pairs.length, size };
    pairs = [];
    size = 0;
    return block;
  };
  for await (const { key, value } of reader.iterate()) {
    pairs.push([new Uint8Array(key), new Uint8Array(value)]);
    size += key.length + value.length;
    if (size >= BLOCK_BYTES) yield close();
  }
  if (pairs.length > 0) yield close();
}

/**
 * The snapshot file of a store, read from one RocksDB snapshot (taken and released here): the manifest is
 * known before the first byte, so the reader is passed over twice, once to name the blocks and once to
 * send them.
 */
export async function storeSnapshot(
  store: Store,
  source: { service: string; nodeId: string; createdAt: Date },
): Promise<{ manifest: StoreSnapshotManifest; root: CID; bytes: AsyncIterable<Uint8Array> }> {
  const snapshot = store.snapshot();
  let released: Promise<void> | undefined;
  const release = () => (released ??= snapshot.release());
  try {
    const blocks: CID[] = [];
    let entries = 0;
    let size = 0;
    for await (const block of pairBlocks(snapshot)) {
      blocks.push(idOfBytes(block.bytes));
      entries += block.entries;
      size += block.size;
    }
    const manifest: StoreSnapshotManifest = {
      format: STORE_SNAPSHOT_FORMAT,
      service: source.service,
      nodeId: source.nodeId,
      createdAt: source.createdAt.toISOString(),
      entries,
      bytes: size,
      blocks,
    };
    const manifestBytes = dagCbor.encode(manifest);
    const root = idOfBytes(manifestBytes);
    const { writer, out } = CarWriter.create([root]);
    const produce = async () => {
      try {
        await writer.put({ cid: root, bytes: manifestBytes });
        for await (const block of pairBlocks(snapshot))
          await writer.put({ cid: idOfBytes(block.bytes), bytes: block.bytes });
      } finally {
        await writer.close();
      }
    };
    // The snapshot is released when the stream ends, fails or is abandoned by its consumer (a client that
    // went away): then the producer, waiting for a reader that is gone, is left to the garbage collector.
    async function* stream(): AsyncGenerator<Uint8Array> {
      try {
        const producing = produce();
        producing.catch(() => undefined);
        yield* out;
        await producing;
      } finally {
        await release();
      }
    }
    return { manifest, root, bytes: stream() };
  } catch (e) {
    await release();
    throw e;
  }
}

export function decodeStoreSnapshotManifest(bytes: Uint8Array): StoreSnapshotManifest {
  let m: Record<string, unknown>;
  try {
    m = dagCbor.decode(bytes) as Record<string, unknown>;
  } catch (e) {
    throw refused(`snapshot manifest is not DAG-CBOR: ${(e as Error).message}`);
  }
  if (typeof m !== 'object' || m === null || m.format !== STORE_SNAPSHOT_FORMAT)
    throw refused(`not a store snapshot (format ${JSON.stringify((m as { format?: unknown })?.format)})`);
  for (const field of ['service', 'nodeId', 'createdAt'] as const)
    if (typeof m[field] !== 'string') throw refused(`snapshot manifest: ${field} must be text`);
  for (const field of ['entries', 'bytes'] as const)
    if (!Number.isSafeInteger(m[field]) || (m[field] as number) < 0)
      throw refused(`snapshot manifest: ${field} must be a count`);
  if (!Array.isArray(m.blocks) || !m.blocks.every((l) => CID.asCID(l) !== null))
    throw refused('snapshot manifest: blocks must be a list of links');
  return m as unknown as StoreSnapshotManifest;
}

/** True when the store holds nothing at all (a fresh data volume). */
export async function isEmptyStore(store: Store): Promise<boolean> {
  for await (const _ of store.iterate({ limit: 1 })) return false;
  return true;
}

async function wipe(store: Store): Promise<void> {
  let batch = store.batch();
  for await (const { key } of store.iterate()) {
    if (key.equals(MARKER)) continue;
    batch.delete(key);
    if (batch.size === WRITE_BATCH) {
      await batch.write({ sync: true });
      batch = store.batch();
    }
  }
  batch.delete(MARKER);
  await batch.write({ sync: true });
}

/** At open: a restore cut short (the marker is still there) is emptied again. True when it was. */
export async function discardUnfinishedRestore(store: Store): Promise<boolean> {
  if ((await store.get(MARKER)) === null) return false;
  await wipe(store);
  return true;
}

/**
 * Loads a snapshot file into an empty store, checking every block against its id and the manifest's block
 * list, entry count, byte count and service. E_BACKUP (and the store emptied again) when anything differs;
 * E_CONFLICT when the store is not empty.
 */
export async function restoreStoreSnapshot(
  store: Store,
  source: AsyncIterable<Uint8Array>,
  expected: { service: string },
): Promise<StoreSnapshotManifest> {
  if (!(await isEmptyStore(store)))
    throw new DsmError('E_CONFLICT', 'a snapshot is restored into an empty data volume only');
  await store.batch().put(MARKER, Uint8Array.of(1)).write({ sync: true });
  try {
    const manifest = await load(store, source, expected.service);
    await store.batch().delete(MARKER).write({ sync: true });
    return manifest;
  } catch (e) {
    await wipe(store);
    throw e;
  }
}

async function load(
  store: Store,
  source: AsyncIterable<Uint8Array>,
  service: string,
): Promise<StoreSnapshotManifest> {
  let car: CarBlockIterator;
  try {
    car = await CarBlockIterator.fromIterable(source);
  } catch (e) {
    throw refused(`not a CAR v1 archive: ${(e as Error).message}`);
  }
  const roots = await car.getRoots();
  if (roots.length !== 1)
    throw refused(`a snapshot has one root, its manifest; this one has ${roots.length}`);
  let manifest: StoreSnapshotManifest | undefined;
  let index = 0;
  let entries = 0;
  let size = 0;
  let batch = store.batch();
  try {
    for await (const { cid, bytes } of car) {
      if (bytes.length > MAX_BLOCK_BYTES) throw refused(`block ${index} is over ${MAX_BLOCK_BYTES} bytes`);
      if (idOfBytes(bytes).toString() !== cid.toString())
        throw refused(`block ${index} (${cid.toString()}) does not match its id: the file was altered`, {
          block: index,
        });
      if (index === 0) {
        if (cid.toString() !== roots[0]!.toString()) throw refused('the first block is not the manifest');
        manifest = decodeStoreSnapshotManifest(bytes);
        if (manifest.service !== service)
          throw refused(`a snapshot of ${manifest.service} cannot be restored into ${service}`, {
            service: manifest.service,
          });
      } else {
        const want = manifest!.blocks[index - 1];
        if (want === undefined || want.toString() !== cid.toString())
          throw refused(`block ${index} (${cid.toString()}) is not the manifest's block ${index}`, {
            block: index,
          });
        for (const [key, value] of pairsOf(bytes, index)) {
          batch.put(key, value);
          entries++;
          size += key.length + value.length;
          if (batch.size === WRITE_BATCH) {
            await batch.write();
            batch = store.batch();
          }
        }
      }
      index++;
    }
  } catch (e) {
    if (e instanceof DsmError) throw e;
    throw refused(`snapshot truncated or malformed after block ${index}: ${(e as Error).message}`, {
      block: index,
    });
  }
  if (manifest === undefined) throw refused('the snapshot holds no manifest');
  if (index - 1 !== manifest.blocks.length)
    throw refused(
      `the snapshot holds ${index - 1} blocks where its manifest lists ${manifest.blocks.length}`,
    );
  if (entries !== manifest.entries || size !== manifest.bytes)
    throw refused(
      `the snapshot holds ${entries} entries (${size} bytes) where its manifest says ${manifest.entries} (${manifest.bytes})`,
    );
  // Every write so far without fsync; this one makes them all durable before the marker goes.
  await batch.write({ sync: true });
  return manifest;
}

function pairsOf(bytes: Uint8Array, index: number): [Uint8Array, Uint8Array][] {
  const value = dagCbor.decode(bytes) as unknown;
  if (
    !Array.isArray(value) ||
    !value.every(
      (p) => Array.isArray(p) && p.length === 2 && p[0] instanceof Uint8Array && p[1] instanceof Uint8Array,
    )
  )
    throw refused(`block ${index} is not a list of [key, value] byte pairs`, { block: index });
  return value as [Uint8Array, Uint8Array][];
}
