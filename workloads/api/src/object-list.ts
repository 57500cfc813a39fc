/**
 * The body of the batch write routes: a DAG-CBOR list of byte strings, each one protocol object's DAG-CBOR
 * bytes, in the order they are to be stored. Decoding checks only the framing; each object is then decoded
 * and verified like a single write, with its own result.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { DsmError } from '@dsm/protocol';

export function encodeObjectList(list: readonly Uint8Array[]): Uint8Array {
  return dagCbor.encode(list);
}

/** The objects of a batch body; E_DECODE for anything but a non-empty list of byte strings, E_TOO_LARGE above `maxObjects`. */
export function decodeObjectList(bytes: Uint8Array, maxObjects: number): Uint8Array[] {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (e) {
    throw new DsmError('E_DECODE', `batch body is not DAG-CBOR: ${(e as Error).message}`, { field: '$' });
  }
  if (!Array.isArray(value) || value.length === 0)
    throw new DsmError('E_DECODE', 'batch body must be a non-empty list of object bytes', { field: '$' });
  if (value.length > maxObjects) {
    throw new DsmError('E_TOO_LARGE', `batch of ${value.length} objects, over the limit of ${maxObjects}`, {
      field: '$',
      size: value.length,
      limit: maxObjects,
    });
  }
  value.forEach((item, i) => {
    if (!(item instanceof Uint8Array))
      throw new DsmError('E_DECODE', `batch item ${i} is not a byte string`, { field: `$[${i}]` });
  });
  return value as Uint8Array[];
}
