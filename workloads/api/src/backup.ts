/**
 * The manifest of a storage node's backup archive (a CAR v1 file, `application/vnd.ipld.car`): the root
 * block, first in the archive. It says where the archive came from, how many of each thing it holds and the
 * set digest of its objects, and links the blocks of facts (heads, supplies, fork evidence) that the
 * directory must show once the objects are loaded. Then come the objects, in the node's log order.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID, DsmError } from '@dsm/protocol';

export const STORAGE_BACKUP_FORMAT = 'dsm-storage-backup@1';
export const CAR_MEDIA_TYPE = 'application/vnd.ipld.car';

export interface BackupCounts {
  /** Accepted objects (geneses, tokens, policies, signed states). */
  objects: number;
  /** Fork candidates kept as evidence. */
  evidence: number;
  /** Identities with a head. */
  identities: number;
  /** Tokens with a supply record. */
  tokens: number;
  /** Identities marked forked. */
  forked: number;
}

export interface StorageBackupManifest {
  format: typeof STORAGE_BACKUP_FORMAT;
  nodeId: string;
  /** ISO 8601 time of the snapshot. */
  createdAt: string;
  /** The node's log sequence number at the snapshot. */
  lastSeq: number;
  counts: BackupCounts;
  /** Hex set digest (the storage node's `digest` fingerprint) of the ids of every object and candidate. */
  digest: string;
  /** Blocks of `[identity, n, stateId]`. */
  heads: CID[];
  /** Blocks of `[token, issued, burned]` (amount text). */
  supplies: CID[];
  /** Blocks of `[identity, n, existing, candidate]`. */
  evidence: CID[];
}

export function encodeBackupManifest(manifest: StorageBackupManifest): Uint8Array {
  return dagCbor.encode(manifest);
}

const bad = (message: string) =>
  new DsmError('E_BACKUP', `backup manifest: ${message}`, { field: 'manifest' });

/** The manifest of an archive's root block; E_BACKUP when it is not one. */
export function decodeBackupManifest(bytes: Uint8Array): StorageBackupManifest {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (e) {
    throw bad(`not DAG-CBOR (${(e as Error).message})`);
  }
  const m = value as Record<string, unknown>;
  if (typeof m !== 'object' || m === null) throw bad('not a map');
  if (m.format !== STORAGE_BACKUP_FORMAT)
    throw bad(`format ${JSON.stringify(m.format)}, expected ${STORAGE_BACKUP_FORMAT}`);
  for (const field of ['nodeId', 'createdAt', 'digest'] as const)
    if (typeof m[field] !== 'string') throw bad(`${field} must be text`);
  if (!Number.isSafeInteger(m.lastSeq) || (m.lastSeq as number) < 0) throw bad('lastSeq must be a count');
  const counts = m.counts as Record<string, unknown> | undefined;
  for (const field of ['objects', 'evidence', 'identities', 'tokens', 'forked'] as const)
    if (!Number.isSafeInteger(counts?.[field]) || (counts![field] as number) < 0)
      throw bad(`counts.${field} must be a count`);
  for (const field of ['heads', 'supplies', 'evidence'] as const)
    if (!Array.isArray(m[field]) || !(m[field] as unknown[]).every((l) => CID.asCID(l) !== null))
      throw bad(`${field} must be a list of links`);
  return m as unknown as StorageBackupManifest;
}
