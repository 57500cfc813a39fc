/**
 * DAG-CBOR encoding, CIDv1/BLAKE3 content ids and strict decoding of untrusted bytes (protocol.md §1).
 */
import * as dagCbor from '@ipld/dag-cbor';
import * as dagJson from '@ipld/dag-json';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { createBLAKE3 } from 'hash-wasm';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { decodeError } from './errors.js';

export { CID };

export const DAG_CBOR_CODE = 0x71;
export const BLAKE3_CODE = 0x1e;
export const DIGEST_LENGTH = 32;
/** Binary CID length: version (1) ‖ codec (1) ‖ hash code (1) ‖ digest length (1) ‖ digest (32). */
export const ID_LENGTH = 36;
/** Largest accepted object in DAG-CBOR bytes (inclusive). */
export const DEFAULT_MAX_OBJECT_BYTES = 262_144;

export const MEDIA_TYPE_DAG_CBOR = 'application/vnd.ipld.dag-cbor';
export const MEDIA_TYPE_DAG_JSON = 'application/vnd.ipld.dag-json';

const ID_PREFIX = Uint8Array.of(0x01, DAG_CBOR_CODE, BLAKE3_CODE, DIGEST_LENGTH);

// Ids hash a few hundred bytes each; the WASM BLAKE3 is ~10× faster than pure JS at that size, which matters
// because hashing sits next to signature verification on the hot path. Noble stays as the fallback (and does
// derive-key mode for entropy, which hash-wasm does not offer); tests check both agree.
const wasmBlake3 = await createBLAKE3(256).catch(() => undefined);

/** BLAKE3-256 of `bytes` (plain hash mode). */
export function blake3(bytes: Uint8Array): Uint8Array {
  if (wasmBlake3 === undefined) return nobleBlake3(bytes);
  wasmBlake3.init();
  wasmBlake3.update(bytes);
  return wasmBlake3.digest('binary');
}

export function encode(value: unknown): Uint8Array {
  return dagCbor.encode(value);
}

/** The id of DAG-CBOR bytes: CIDv1, dag-cbor codec, BLAKE3-256 multihash. */
export function idOfBytes(bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR_CODE, Digest.create(BLAKE3_CODE, blake3(bytes)));
}

export function idOf(value: unknown): CID {
  return idOfBytes(encode(value));
}

/** True when `cid` is a DSM id: CIDv1, dag-cbor, BLAKE3-256. */
export function isDsmId(cid: CID): boolean {
  return (
    cid.version === 1 &&
    cid.code === DAG_CBOR_CODE &&
    cid.multihash.code === BLAKE3_CODE &&
    cid.multihash.digest.length === DIGEST_LENGTH
  );
}

/** Parses an id from its text form (base32 `bafyr4i…`); throws E_DECODE naming `field`. */
export function parseId(text: string, field = 'id'): CID {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch {
    throw decodeError(field, 'not a CID in base32 text form', { value: text.slice(0, 100) });
  }
  if (!isDsmId(cid) || cid.toString() !== text) {
    throw decodeError(field, 'not a DSM id (CIDv1, dag-cbor, BLAKE3-256, base32 lowercase)', {
      value: text.slice(0, 100),
    });
  }
  return cid;
}

/** Parses an id from its 36 id bytes. */
export function idFromBytes(bytes: Uint8Array, field = 'id'): CID {
  if (bytes.length !== ID_LENGTH || !ID_PREFIX.every((b, i) => bytes[i] === b)) {
    throw decodeError(field, `id bytes must be ${ID_LENGTH} bytes starting 01711e20`);
  }
  return CID.decode(bytes);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw decodeError('hex', 'not lowercase hex');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * Decodes untrusted DAG-CBOR: rejects oversize input, anything @ipld/dag-cbor refuses, and bytes that do
 * not re-encode identically (non-canonical ordering, lengths or integer widths, floats for integers).
 */
export function decodeStrict(bytes: Uint8Array, maxBytes = DEFAULT_MAX_OBJECT_BYTES): unknown {
  if (bytes.length > maxBytes) {
    throw decodeError('$', `object is ${bytes.length} bytes, over the limit of ${maxBytes}`, {
      size: bytes.length,
      limit: maxBytes,
    });
  }
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (e) {
    throw decodeError('$', `not valid DAG-CBOR (${(e as Error).message})`);
  }
  let again: Uint8Array;
  try {
    again = dagCbor.encode(value);
  } catch (e) {
    throw decodeError('$', `not encodable as DAG-CBOR (${(e as Error).message})`);
  }
  if (!bytesEqual(again, bytes))
    throw decodeError('$', 'not canonical DAG-CBOR (does not re-encode to the same bytes)');
  return value;
}

/** Parses DAG-JSON into the data model and returns its canonical DAG-CBOR bytes (all ids use those). */
/**
 * Offset of the first JSON number written with a fraction or an exponent, outside strings, or -1. JavaScript
 * reads `2.0` as the integer 2, so a float would otherwise slip into an integer field (§1: floats are E_DECODE).
 */
export function firstFloat(text: string): number {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if ((c === '-' || (c! >= '0' && c! <= '9')) && (i === 0 || !/[0-9.eE+-]/.test(text[i - 1]!))) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++;
      if (/[.eE]/.test(text.slice(i, j))) return i;
      i = j - 1;
    }
  }
  return -1;
}

export function dagJsonToCbor(json: Uint8Array | string, maxBytes = DEFAULT_MAX_OBJECT_BYTES): Uint8Array {
  const input = typeof json === 'string' ? new TextEncoder().encode(json) : json;
  const text = typeof json === 'string' ? json : new TextDecoder().decode(json);
  const float = firstFloat(text);
  if (float >= 0)
    throw decodeError('$', `floats are not allowed (number at offset ${float})`, { offset: float });
  let value: unknown;
  try {
    value = dagJson.decode(input);
  } catch (e) {
    throw decodeError('$', `not valid DAG-JSON (${(e as Error).message})`);
  }
  let bytes: Uint8Array;
  try {
    bytes = dagCbor.encode(value);
  } catch (e) {
    throw decodeError('$', `not encodable as DAG-CBOR (${(e as Error).message})`);
  }
  if (bytes.length > maxBytes) {
    throw decodeError('$', `object is ${bytes.length} bytes, over the limit of ${maxBytes}`, {
      size: bytes.length,
      limit: maxBytes,
    });
  }
  return bytes;
}

export function toDagJson(value: unknown): Uint8Array {
  return dagJson.encode(value);
}

/** Stored (already checked) DAG-CBOR bytes as DAG-JSON: what a client that asks for JSON is sent. */
export function cborToDagJson(bytes: Uint8Array): Uint8Array {
  return toDagJson(dagCbor.decode(bytes));
}

export function toDagJsonString(value: unknown): string {
  return new TextDecoder().decode(dagJson.encode(value));
}
