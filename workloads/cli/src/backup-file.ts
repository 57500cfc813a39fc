/**
 * Backup archives on disk: written whole or not at all (a partial file, then fsync and rename), and checked
 * offline (every block named by the id of its bytes, the manifest first and the counts it gives), so a
 * file can be trusted before it is needed.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CarBlockIterator } from '@ipld/car/iterator';
import * as dagCbor from '@ipld/dag-cbor';
import { decodeBackupManifest, STORAGE_BACKUP_FORMAT, type StorageBackupManifest } from '@dsm/api';
import { DsmError, idOfBytes } from '@dsm/protocol';
import { decodeStoreSnapshotManifest, type StoreSnapshotManifest } from '@dsm/runtime/store-snapshot';

/** Writes `chunks` to `file` through `file.partial`; nothing is left at `file` unless all of it arrived. */
export async function writeWhole(file: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const partial = `${file}.partial`;
  const handle = await open(partial, 'w', 0o600);
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      await handle.write(chunk);
      bytes += chunk.length;
    }
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(partial, { force: true });
    throw e;
  }
  await handle.close();
  await rename(partial, file);
  return bytes;
}

/** A storage node's archive, or a core node's or the bridge's store snapshot. */
export type ArchiveCheck =
  | { kind: 'storage'; manifest: StorageBackupManifest; root: string; blocks: number }
  | { kind: 'snapshot'; manifest: StoreSnapshotManifest; root: string; blocks: number };

type Found =
  | { kind: 'storage'; manifest: StorageBackupManifest }
  | { kind: 'snapshot'; manifest: StoreSnapshotManifest };

/** The manifest of either kind of file, by its `format`. */
function manifestOf(bytes: Uint8Array): Found {
  let format: unknown;
  try {
    format = (dagCbor.decode(bytes) as { format?: unknown } | null)?.format;
  } catch {
    format = undefined;
  }
  return format === STORAGE_BACKUP_FORMAT
    ? { kind: 'storage', manifest: decodeBackupManifest(bytes) }
    : { kind: 'snapshot', manifest: decodeStoreSnapshotManifest(bytes) };
}

/** Blocks after the manifest that the manifest accounts for. */
function expectedBlocks(check: Found): number {
  if (check.kind === 'snapshot') return check.manifest.blocks.length;
  const m = check.manifest;
  return m.heads.length + m.supplies.length + m.evidence.length + m.counts.objects + m.counts.evidence;
}

const refused = (file: string, message: string) => new DsmError('E_BACKUP', `${file}: ${message}`, { file });

/**
 * Reads an archive or snapshot through and checks what can be checked without loading it: the manifest is
 * the root and the first block, every block matches its id, and the file holds as many blocks as the
 * manifest accounts for. (A restore checks the rest: every object verified, the digest and the facts; the
 * order of a snapshot's blocks and its entry count.)
 */
export async function checkArchive(file: string): Promise<ArchiveCheck> {
  let car: CarBlockIterator;
  try {
    car = await CarBlockIterator.fromIterable(createReadStream(file));
  } catch (e) {
    throw refused(file, `not a CAR v1 archive: ${(e as Error).message}`);
  }
  const roots = await car.getRoots();
  if (roots.length !== 1) throw refused(file, `${roots.length} roots, a backup has one (its manifest)`);
  let found: Found | undefined;
  let blocks = 0;
  try {
    for await (const { cid, bytes } of car) {
      if (idOfBytes(bytes).toString() !== cid.toString())
        throw refused(
          file,
          `block ${blocks} (${cid.toString()}) does not match its id: the file was altered`,
        );
      if (blocks === 0) {
        if (cid.toString() !== roots[0]!.toString())
          throw refused(file, 'the first block is not the manifest');
        found = manifestOf(bytes);
      }
      blocks++;
    }
  } catch (e) {
    if (e instanceof DsmError) throw e;
    throw refused(file, `truncated or malformed after block ${blocks}: ${(e as Error).message}`);
  }
  if (found === undefined) throw refused(file, 'no blocks');
  const expected = 1 + expectedBlocks(found);
  if (blocks !== expected)
    throw refused(file, `${blocks} blocks where the manifest accounts for ${expected}`);
  return { ...found, root: roots[0]!.toString(), blocks } as ArchiveCheck;
}

/** A backup folder's name: its UTC start time, sortable (`20261202T033612Z`). */
export function backupFolderName(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

const FOLDER = /^\d{8}T\d{6}Z$/;

/**
 * Keeps the newest `keep` backup folders of `dir` (by name, which is their time) and removes the others,
 * with any `.partial-` folder an interrupted run left. Other files and folders are never touched.
 */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory() && FOLDER.test(e.name)).map((e) => e.name);
  folders.sort();
  const newest = folders[folders.length - 1];
  const stale = entries
    .filter((e) => e.isDirectory() && e.name.startsWith('.partial-') && e.name.slice(9) < (newest ?? ''))
    .map((e) => e.name);
  const removed = [...folders.slice(0, Math.max(0, folders.length - keep)), ...stale];
  for (const name of removed) await rm(join(dir, name), { recursive: true, force: true });
  return removed;
}
