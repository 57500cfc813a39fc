/**
 * Loads a backup archive (backup.ts) into an empty directory, trusting nothing in it: every block must be
 * named by the id of its bytes, the manifest must be the root, and every object goes through the same
 * ingest as a client write (decoding, every check of §4, signatures). Once the objects are in, the
 * directory must show exactly the manifest's counts, set digest and facts. Any difference is E_BACKUP;
 * the caller then discards what was loaded (restorer.ts).
 */
import { CarBlockIterator } from '@ipld/car/iterator';
import { decodeBackupManifest, type BackupCounts, type StorageBackupManifest } from '@dsm/api';
import { bytesEqual, decodeStrict, DsmError, encode, idOfBytes, isDsmError, type CID } from '@dsm/protocol';
import { readFacts, type Facts } from './backup.js';
import type { Directory } from './directory.js';

/** Largest fact block read (backup.ts writes at most 4096 entries of under 100 bytes). */
const FACT_BLOCK_BYTES = 1 << 20;
/** Objects ingested per durable batch while restoring. */
const INGEST_BATCH = 256;

export interface RestoreReport {
  manifest: StorageBackupManifest;
  root: string;
  objects: number;
  evidence: number;
  /** Archive bytes read. */
  bytes: number;
}

const refused = (message: string, details: Record<string, string | number> = {}) =>
  new DsmError('E_BACKUP', message, details);

/** Counts the bytes that pass through. */
async function* counted(source: AsyncIterable<Uint8Array>, total: { bytes: number }) {
  for await (const chunk of source) {
    total.bytes += chunk.length;
    yield chunk;
  }
}

export async function restoreArchive(
  directory: Directory,
  source: AsyncIterable<Uint8Array>,
): Promise<RestoreReport> {
  const total = { bytes: 0 };
  let car: CarBlockIterator;
  try {
    car = await CarBlockIterator.fromIterable(counted(source, total));
  } catch (e) {
    throw refused(`not a CAR v1 archive: ${(e as Error).message}`);
  }
  const roots = await car.getRoots();
  if (roots.length !== 1)
    throw refused(`a backup has one root, the manifest; this archive has ${roots.length}`);
  const root = roots[0]!;
  const blocks = car[Symbol.asyncIterator]();
  let index = 0;
  // The next block, checked against the id of its bytes.
  const next = async (): Promise<{ cid: CID; bytes: Uint8Array } | undefined> => {
    let step: IteratorResult<{ cid: CID; bytes: Uint8Array }>;
    try {
      step = await blocks.next();
    } catch (e) {
      throw refused(`archive truncated or malformed after block ${index}: ${(e as Error).message}`, {
        block: index,
      });
    }
    if (step.done) return undefined;
    const { cid, bytes } = step.value;
    const named = idOfBytes(bytes).toString() === cid.toString();
    if (!named)
      throw refused(`block ${index} (${cid.toString()}) does not match its id: the archive was altered`, {
        block: index,
        id: cid.toString(),
      });
    index++;
    return { cid, bytes };
  };
  const expect = async (cid: CID, what: string): Promise<Uint8Array> => {
    const block = await next();
    if (!block?.cid.equals(cid))
      throw refused(`expected the ${what} block ${cid.toString()} at block ${index}`, { block: index });
    return block.bytes;
  };

  const manifest = decodeBackupManifest(await expect(root, 'manifest'));
  const expected: Facts = {
    heads: await factBlocks(manifest.heads, 3, expect, 'heads'),
    supplies: await factBlocks(manifest.supplies, 3, expect, 'supplies'),
    evidence: await factBlocks(manifest.evidence, 4, expect, 'evidence'),
    forked: manifest.counts.forked,
  } as Facts;

  let objects = 0;
  let evidence = 0;
  let batch: { cid: CID; bytes: Uint8Array }[] = [];
  const flush = async () => {
    const results = await directory.ingestMany(batch.map((b) => b.bytes));
    results.forEach((result, i) => {
      const cid = batch[i]!.cid.toString();
      if (isDsmError(result, 'E_FORK')) evidence++;
      else if (result instanceof DsmError)
        throw refused(`object ${cid} refused (${result.code}): ${result.message}`, {
          id: cid,
          code: result.code,
        });
      else if (!result.stored) throw refused(`object ${cid} appears twice in the archive`, { id: cid });
      else objects++;
    });
    batch = [];
  };
  for (let block = await next(); block !== undefined; block = await next()) {
    batch.push(block);
    if (batch.length === INGEST_BATCH) await flush();
  }
  if (batch.length > 0) await flush();

  const found = await readFacts(directory.store);
  const counts: BackupCounts = {
    objects,
    evidence,
    identities: found.heads.length,
    tokens: found.supplies.length,
    forked: found.forked,
  };
  for (const [field, want] of Object.entries(manifest.counts) as [keyof BackupCounts, number][])
    if (counts[field] !== want)
      throw refused(`the archive holds ${counts[field]} ${field} where its manifest says ${want}`, {
        field,
        found: counts[field],
        expected: want,
      });
  const digest = directory.digestSummary().fingerprint;
  if (digest !== manifest.digest)
    throw refused(`set digest ${digest} of what was loaded differs from the manifest's ${manifest.digest}`);
  for (const field of ['heads', 'supplies', 'evidence'] as const)
    if (!bytesEqual(encode(found[field]), encode(expected[field])))
      throw refused(`the ${field} of what was loaded differ from the manifest's`, { field });
  return { manifest, root: root.toString(), objects, evidence, bytes: total.bytes };
}

/** The entries of a manifest's fact blocks, in order; each entry a list of `width` values. */
async function factBlocks(
  links: CID[],
  width: number,
  expect: (cid: CID, what: string) => Promise<Uint8Array>,
  what: string,
): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for (const link of links) {
    let entries: unknown;
    try {
      entries = decodeStrict(await expect(link, what), FACT_BLOCK_BYTES);
    } catch (e) {
      if (isDsmError(e, 'E_BACKUP')) throw e;
      throw refused(`${what} block ${link.toString()} is not DAG-CBOR: ${(e as Error).message}`);
    }
    if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === width))
      throw refused(`${what} block ${link.toString()} is not a list of ${width}-entry lists`);
    out.push(...(entries as unknown[][]));
  }
  return out;
}
