// How the contracts carry DSM ids. A DSM id is 36 bytes: 0x01711e20 (CIDv1, dag-cbor, BLAKE3, 32 bytes)
// then the 32-byte digest. The prefix being fixed, DsmBridge takes transfer and token ids as the bytes32
// digest alone, and a DSM recipient (burnToDsm) as the full 36 bytes.

/** The fixed first four bytes of every DSM id, as hex. */
export const DSM_ID_PREFIX_HEX = '01711e20';

/** The `bytes32` the contracts use for a 36-byte DSM id (`0x`-prefixed hex): its digest. */
export function dsmIdDigest(id: Uint8Array): `0x${string}` {
  const hex = Buffer.from(id).toString('hex');
  if (id.length !== 36 || !hex.startsWith(DSM_ID_PREFIX_HEX)) {
    throw new Error(`a DSM id is 36 bytes starting ${DSM_ID_PREFIX_HEX}`);
  }
  return `0x${hex.slice(8)}`;
}

/** The 36-byte DSM id whose digest is `digest` (a `bytes32` the contracts gave back). */
export function dsmIdFromDigest(digest: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(digest)) throw new Error('a DSM id digest is 0x and 64 hex characters');
  return Uint8Array.from(Buffer.from(DSM_ID_PREFIX_HEX + digest.slice(2), 'hex'));
}
