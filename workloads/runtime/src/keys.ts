/**
 * Byte keys for the store. RocksDB orders keys bytewise, so the encodings here make that order
 * the one we want: parts joined by 0x00, which sorts below every other byte, so keys sort part
 * by part like tuples (`key('a', 'z')` < `key('ab')`); numbers big-endian, so they sort numerically.
 */

const SEPARATOR = 0x00;
const encoder = new TextEncoder();

/**
 * `key('head', identity)`: string parts (no NUL inside) and fixed-width binary parts (hashes,
 * `u64be`), joined by 0x00. Variable-length binary parts would make the key ambiguous.
 */
export function key(...parts: ReadonlyArray<string | Uint8Array>): Buffer {
  const chunks: Uint8Array[] = [];
  parts.forEach((part, i) => {
    if (i > 0) chunks.push(Uint8Array.of(SEPARATOR));
    if (typeof part === 'string') {
      if (part.includes('\0')) throw new RangeError(`key part ${JSON.stringify(part)} contains NUL`);
      chunks.push(encoder.encode(part));
    } else {
      chunks.push(part);
    }
  });
  return Buffer.concat(chunks);
}

/** The prefix shared by every `key(...parts, more...)`: use it to scan, e.g. all heads. */
export function keyPrefix(...parts: ReadonlyArray<string | Uint8Array>): Buffer {
  return Buffer.concat([key(...parts), Uint8Array.of(SEPARATOR)]);
}

/** The smallest key greater than every key starting with `prefix`; undefined when none exists (all 0xff). */
export function prefixUpperBound(prefix: Uint8Array): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number;
    if (byte !== 0xff) {
      const bound = Buffer.from(prefix.subarray(0, i + 1));
      bound[i] = byte + 1;
      return bound;
    }
  }
  return undefined;
}

const U64_MAX = (1n << 64n) - 1n;

/** 8 bytes big-endian, so numeric order is byte order (sequence numbers, heights, timestamps). */
export function u64be(value: number | bigint): Buffer {
  const big = typeof value === 'bigint' ? value : BigInt(checkSafe(value));
  if (big < 0n || big > U64_MAX) throw new RangeError(`u64 out of range: ${big}`);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(big);
  return out;
}

export function readU64be(bytes: Uint8Array, offset = 0): bigint {
  if (offset < 0 || offset + 8 > bytes.length) throw new RangeError(`no u64 at offset ${offset}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE(offset);
}

function checkSafe(value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`u64 needs a safe integer, got ${value}`);
  return value;
}
