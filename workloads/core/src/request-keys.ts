/**
 * Idempotency keys (the IETF httpapi `Idempotency-Key` header) for custodial requests. A key names one
 * request; its record is written in the same durable batch as the state that request produced, so a retry
 * with the same key and body finds that state whatever happened in between (a 503, a crash, auto-receive
 * finishing the pending state first) and is answered with it instead of acting twice. The same key with
 * another request is 409 E_CONFLICT. Records expire after `RETENTION_MS`.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { createHash } from 'node:crypto';
import type { CID } from '@dsm/protocol';
import { DsmError } from '@dsm/protocol';
import { key, keyPrefix, type Store, type WriteBatch } from '@dsm/runtime';

/** How long a key is remembered (the draft leaves it to the server; payment APIs keep 24 h). */
export const RETENTION_MS = 24 * 60 * 60 * 1000;

/** Visible ASCII, 1 to 255 characters; the draft's sf-string form ("…") is accepted and unquoted. */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** One keyed request: its key and what it asked for. */
export interface RequestKey {
  key: string;
  /** SHA-256 of method, path and the canonical JSON body: the same key must come with the same request. */
  fingerprint: string;
}

/** What a key led to. */
export interface KeyRecord {
  fingerprint: string;
  /** Unix ms when first seen. */
  at: number;
  /** The state this request produced (durable with the record, possibly still pending). */
  identity?: CID;
  stateId?: CID;
  /** That state was refused for good before it was acknowledged: the request took no effect. */
  failed?: true;
  /** An answer that is not one new state (already received, receive-all). */
  response?: { status: number; body: unknown };
}

const KEYS = {
  record: (requestKey: string) => key('request', Buffer.from(requestKey, 'utf8')),
  prefix: () => keyPrefix('request'),
};

/** The request's key, or undefined when it sent none; a malformed key is 400 E_BAD_REQUEST. */
export function requestKeyOf(
  header: string | undefined,
  method: string,
  path: string,
  body: unknown,
): RequestKey | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  // An sf-string (RFC 8941) is quoted, with \\ and \" escaped inside.
  const value = /^".*"$/.test(trimmed) ? trimmed.slice(1, -1).replace(/\\(["\\])/g, '$1') : trimmed;
  if (!KEY.test(value)) {
    throw new DsmError('E_BAD_REQUEST', 'Idempotency-Key: 1 to 255 visible ASCII characters', {
      field: 'Idempotency-Key',
    });
  }
  const fingerprint = createHash('sha256')
    .update(`${method.toUpperCase()} ${path}\n${canonicalJson(body ?? {})}`)
    .digest('hex');
  return { key: value, fingerprint };
}

/** JSON with object keys sorted at every depth: the same body however its fields were ordered. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export class RequestKeys {
  constructor(private readonly db: Store) {}

  /** The record of `request`'s key; E_CONFLICT when the key was used for another request. */
  async find(request: RequestKey, now = Date.now()): Promise<KeyRecord | undefined> {
    const bytes = await this.db.get(KEYS.record(request.key));
    if (bytes === null) return undefined;
    const record = dagCbor.decode(bytes) as KeyRecord;
    if (now - record.at > RETENTION_MS) return undefined;
    if (record.fingerprint !== request.fingerprint) {
      throw new DsmError(
        'E_CONFLICT',
        'this Idempotency-Key was already used for a different request; use a new key for a new request',
        { field: 'Idempotency-Key' },
      );
    }
    return record;
  }

  /** Adds "this request produced `stateId`" to `batch` (the batch that makes the state pending). */
  recordState(batch: WriteBatch, request: RequestKey, identity: CID, stateId: CID): WriteBatch {
    const record: KeyRecord = { fingerprint: request.fingerprint, at: Date.now(), identity, stateId };
    return batch.put(KEYS.record(request.key), dagCbor.encode(record));
  }

  /** The state a key led to was refused for good: a retry may act afresh. */
  markFailed(batch: WriteBatch, requestKey: string, record: KeyRecord): WriteBatch {
    return batch.put(KEYS.record(requestKey), dagCbor.encode({ ...record, failed: true }));
  }

  async get(requestKey: string): Promise<KeyRecord | undefined> {
    const bytes = await this.db.get(KEYS.record(requestKey));
    return bytes === null ? undefined : (dagCbor.decode(bytes) as KeyRecord);
  }

  /**
   * Remembers an answer that is not one new state. Not synced: if a crash loses it, the retry runs the
   * request again, which for these answers (receives happen once) has the same effect.
   */
  async saveResponse(request: RequestKey, response: { status: number; body: unknown }): Promise<void> {
    const record: KeyRecord = { fingerprint: request.fingerprint, at: Date.now(), response };
    await this.db.batch().put(KEYS.record(request.key), dagCbor.encode(record)).write();
  }

  /** Forgets records older than the retention period; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    const expired: Buffer[] = [];
    for await (const { key: k, value } of this.db.prefix(KEYS.prefix())) {
      if (now - (dagCbor.decode(value) as KeyRecord).at > RETENTION_MS) expired.push(k);
    }
    if (expired.length === 0) return 0;
    const batch = this.db.batch();
    for (const k of expired) batch.delete(k);
    await batch.write();
    return expired.length;
  }
}
