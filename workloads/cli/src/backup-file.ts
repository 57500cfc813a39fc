/**
 * Backup archives on disk: written whole or not at all (a partial file, then fsync and rename), and checked
 * offline (every block named by the id of its bytes, the manifest first and the counts it gives), so a
 * file can be trusted before it is needed.
 */
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { CarBlockIterator } from '@ipld/car/iterator';
import { decodeBackupManifest, type StorageBackupManifest } from '@dsm/api';
import { DsmError, idOfBytes } from '@dsm/protocol';

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

export interface ArchiveCheck {
  manifest: StorageBackupManifest;
  root: string;
  blocks: number;
}

const refused = (file: string, message: string) => new DsmError('E_BACKUP', `${file}: ${message}`, { file });

/**
 * Reads a storage archive through and checks what can be checked without loading it: the manifest is the
 * root and the first block, every block matches its id, and the archive holds as many blocks as the
 * manifest accounts for. (A restore checks the rest: every object verified, the digest and the facts.)
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
  let manifest: StorageBackupManifest | undefined;
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
        manifest = decodeBackupManifest(bytes);
      }
      blocks++;
    }
  } catch (e) {
    if (e instanceof DsmError) throw e;
    throw refused(file, `truncated or malformed after block ${blocks}: ${(e as Error).message}`);
  }
  if (manifest === undefined) throw refused(file, 'no blocks');
  const expected =
    1 +
    manifest.heads.length +
    manifest.supplies.length +
    manifest.evidence.length +
    manifest.counts.objects +
    manifest.counts.evidence;
  if (blocks !== expected)
    throw refused(file, `${blocks} blocks where the manifest accounts for ${expected}`);
  return { manifest, root: roots[0]!.toString(), blocks };
}
