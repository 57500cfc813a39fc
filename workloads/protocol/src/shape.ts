/**
 * Field readers for strict decoding: each checks one value of the IPLD data model and throws
 * E_DECODE naming the field path. Shared by object decoding (§1) and policy validation (§6), which
 * maps the same failures to E_POLICY.
 */
import { CID } from 'multiformats/cid';
import { parseAmount } from './amount.js';
import { isDsmId } from './encoding.js';
import { decodeError } from './errors.js';

export const MAX_SAFE_UINT = Number.MAX_SAFE_INTEGER; // 2^53 − 1

export type DataMap = Record<string, unknown>;

export function isMap(value: unknown): value is DataMap {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    CID.asCID(value) === null
  );
}

export function map(value: unknown, field: string): DataMap {
  if (!isMap(value)) throw decodeError(field, 'must be a map');
  return value;
}

/** Requires exactly the `required` keys plus any of `optional`, nothing else. */
export function exactKeys(
  value: DataMap,
  field: string,
  required: readonly string[],
  optional: readonly string[] = [],
): void {
  for (const key of required) {
    if (!(key in value)) throw decodeError(join(field, key), 'is missing');
  }
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key))
      throw decodeError(join(field, key), 'is not allowed here');
  }
}

export function join(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw decodeError(field, 'must be text');
  return value;
}

export function literal<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw decodeError(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function uint(value: unknown, field: string, max = MAX_SAFE_UINT, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw decodeError(field, `must be an unsigned integer in ${min}..${max}`);
  }
  return value;
}

export function bytes(value: unknown, field: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw decodeError(field, 'must be bytes');
  if (length !== undefined && value.length !== length)
    throw decodeError(field, `must be exactly ${length} bytes`);
  return value;
}

export function link(value: unknown, field: string): CID {
  const cid = CID.asCID(value);
  if (cid === null) throw decodeError(field, 'must be a link (CID)');
  if (!isDsmId(cid)) throw decodeError(field, 'must be a DSM id (CIDv1, dag-cbor, BLAKE3-256)');
  return cid;
}

export function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw decodeError(field, 'must be a list');
  return value;
}

export function amount(value: unknown, field: string, positive = false): string {
  parseAmount(value, field, positive);
  return value as string;
}

export function utf8Length(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}
