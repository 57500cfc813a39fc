import { describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { decodeAs, decodeObject } from './decode.js';
import {
  DEFAULT_MAX_OBJECT_BYTES,
  dagJsonToCbor,
  decodeStrict,
  encode,
  idFromBytes,
  idOf,
  parseId,
  toDagJsonString,
  toHex,
} from './encoding.js';
import { genesisEntropy, nextEntropy } from './entropy.js';
import type { DsmError } from './errors.js';
import type { Genesis, Operation } from './objects.js';

const workedGenesis: Genesis = {
  type: 'dsm/genesis@1',
  suite: 'ml-dsa-65',
  publicKey: new Uint8Array(1952).fill(1),
  kemPublicKey: new Uint8Array(1184).fill(2),
  nonce: new Uint8Array(32).fill(3),
};

function decodeFailure(fn: () => unknown): DsmError {
  try {
    fn();
  } catch (e) {
    return e as DsmError;
  }
  throw new Error('expected a failure');
}

describe('worked example (protocol.md §9)', () => {
  const id = idOf(workedGenesis);
  it('genesis id and id bytes', () => {
    expect(id.toString()).toBe('bafyr4idvypws3lus43rvbnqmkob3twijrxihofastp2eqnmlxns6zcbj2y');
    expect(toHex(id.bytes)).toBe('01711e2075c3ed2dae92e6e350b60c5383b9d9098dd07714129bf448358bbb65ec8829d6');
  });
  it('entropy₀', () => {
    expect(toHex(genesisEntropy(id))).toBe(
      '2a85e3285c04491400def47a141e814dafb68238a095c205f67c6bc54f78d016',
    );
  });
  it('op id and entropy at n = 1', () => {
    const op: Operation = { kind: 'token.mint', token: id, amount: '1000' };
    expect(toHex(idOf(op).bytes)).toBe(
      '01711e2099e45c5bd9a214e68b965dcbc93e3bb69af42f6650ef17e3366dd898c7b900ee',
    );
    expect(toHex(nextEntropy(genesisEntropy(id), op, 1))).toBe(
      '7757c001fe97b568ffc25fd64d445895ad1e06e021897718bd9198942c44068f',
    );
  });
});

describe('ids', () => {
  it('parses and prints base32 text and 36 id bytes', () => {
    const id = idOf(workedGenesis);
    expect(parseId(id.toString()).equals(id)).toBe(true);
    expect(idFromBytes(id.bytes).equals(id)).toBe(true);
  });
  it('rejects other CID forms', async () => {
    const sha = CID.createV1(0x71, await sha256.digest(new Uint8Array([1])));
    expect(() => parseId(sha.toString(), 'token')).toThrow(/token: not a DSM id/);
    expect(() => parseId(idOf(workedGenesis).toString().toUpperCase())).toThrow(/E_DECODE|not/);
    expect(() => parseId('hello')).toThrow(/not a CID/);
    expect(() => idFromBytes(sha.bytes)).toThrow(/id bytes/);
  });
});

describe('strict decoding', () => {
  const bytes = encode(workedGenesis);

  it('decode ∘ encode is identity for a valid object', () => {
    const decoded = decodeAs(bytes, 'dsm/genesis@1');
    expect(toHex(encode(decoded))).toBe(toHex(bytes));
  });

  it('rejects non-canonical key order', () => {
    // Hand-build a map with keys in the wrong order: {"b": 1, "a": 2}.
    const nonCanonical = Uint8Array.from([0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02]);
    expect(decodeFailure(() => decodeStrict(nonCanonical)).code).toBe('E_DECODE');
  });

  it('rejects non-minimal integer encodings', () => {
    // 1 encoded as a two-byte integer (0x18 0x01) instead of 0x01.
    expect(decodeFailure(() => decodeStrict(Uint8Array.from([0x18, 0x01]))).message).toMatch(
      /canonical|DAG-CBOR/,
    );
  });

  it('rejects trailing bytes and garbage', () => {
    expect(decodeFailure(() => decodeStrict(Uint8Array.from([...bytes, 0x00]))).code).toBe('E_DECODE');
    expect(decodeFailure(() => decodeStrict(Uint8Array.from([0xff, 0x00]))).code).toBe('E_DECODE');
  });

  it('enforces the size limit inclusively', () => {
    const fill = (size: number) => {
      // A byte string whose encoding is exactly `size` bytes (header 5 bytes for lengths ≥ 65536).
      return dagCbor.encode(new Uint8Array(size - 5));
    };
    expect(fill(DEFAULT_MAX_OBJECT_BYTES)).toHaveLength(DEFAULT_MAX_OBJECT_BYTES);
    expect(() => decodeStrict(fill(DEFAULT_MAX_OBJECT_BYTES))).not.toThrow();
    const e = decodeFailure(() => decodeStrict(fill(DEFAULT_MAX_OBJECT_BYTES + 1)));
    expect(e.code).toBe('E_DECODE');
    expect(e.details.limit).toBe(DEFAULT_MAX_OBJECT_BYTES);
  });

  const mutate = (patch: Record<string, unknown>, drop: string[] = []) => {
    const m: Record<string, unknown> = { ...workedGenesis, ...patch };
    for (const k of drop) delete m[k];
    return encode(m);
  };

  it.each([
    ['unknown type', { type: 'dsm/genesis@2' }, [], 'type'],
    ['extra field', { extra: 1 }, [], 'extra'],
    ['missing field', {}, ['nonce'], 'nonce'],
    ['wrong type of field', { suite: 7 }, [], 'suite'],
    ['unknown suite', { suite: 'ml-kem-768' }, [], 'suite'],
    ['wrong key length', { publicKey: new Uint8Array(1312) }, [], 'publicKey'],
    ['short nonce', { nonce: new Uint8Array(31) }, [], 'nonce'],
    ['null optional', { label: null }, [], 'label'],
  ])('rejects %s naming the field', (_name, patch, drop, field) => {
    const e = decodeFailure(() => decodeObject(mutate(patch, drop as string[])));
    expect(e.code).toBe('E_DECODE');
    expect(e.details.field).toBe(field);
  });

  it('rejects floats and negative numbers where integers belong', () => {
    // A token definition whose decimals is the float64 2.0 instead of the integer 2.
    const token = {
      type: 'dsm/token@1',
      issuer: idOf(workedGenesis),
      symbol: 'S',
      name: 'N',
      decimals: 2,
      initialSupply: '5',
      policy: idOf(workedGenesis),
      nonce: new Uint8Array(32),
    };
    const good = encode(token);
    const at = Buffer.from(good).indexOf(Buffer.from('68646563696d616c7302', 'hex')); // "decimals" → 2
    const floatBytes = Buffer.concat([
      good.subarray(0, at + 9),
      Buffer.from('fb4000000000000000', 'hex'),
      good.subarray(at + 10),
    ]);
    expect(decodeFailure(() => decodeObject(floatBytes)).code).toBe('E_DECODE');
    expect(decodeFailure(() => decodeObject(encode({ ...token, decimals: -1 }))).details.field).toBe(
      'decimals',
    );
    expect(decodeFailure(() => decodeObject(encode({ ...token, decimals: 37 }))).details.field).toBe(
      'decimals',
    );
    expect(decodeFailure(() => decodeObject(encode({ ...token, initialSupply: '-5' }))).details.field).toBe(
      'initialSupply',
    );
    expect(decodeFailure(() => decodeObject(encode({ ...token, initialSupply: 5 }))).details.field).toBe(
      'initialSupply',
    );
    expect(
      decodeFailure(() => decodeObject(encode({ ...token, initialSupply: (1n << 256n).toString() }))).details
        .field,
    ).toBe('initialSupply');
    expect(() =>
      decodeObject(encode({ ...token, initialSupply: ((1n << 256n) - 1n).toString() })),
    ).not.toThrow();
  });

  it('rejects a top-level type in the wrong place', () => {
    const e = decodeFailure(() => decodeAs(bytes, 'dsm/state@1'));
    expect(e.code).toBe('E_DECODE');
    expect(e.details.field).toBe('type');
  });
});

describe('DAG-JSON', () => {
  it('differently spaced or ordered JSON gives the same canonical bytes and id', () => {
    const json = toDagJsonString(workedGenesis);
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(json)).reverse()), null, 2);
    expect(toHex(dagJsonToCbor(reordered))).toBe(toHex(encode(workedGenesis)));
    expect(idOf(decodeObject(dagJsonToCbor(reordered))).toString()).toBe(idOf(workedGenesis).toString());
  });
  it('rejects floats in DAG-JSON, even ones JavaScript would read as integers', () => {
    const json = toDagJsonString({ type: 'dsm/token@1', decimals: 2, name: 'a "2.0" 1e5 string' });
    expect(() => dagJsonToCbor(json)).not.toThrow();
    expect(decodeFailure(() => dagJsonToCbor(json.replace('"decimals":2', '"decimals":2.0'))).code).toBe(
      'E_DECODE',
    );
    expect(decodeFailure(() => dagJsonToCbor(json.replace('"decimals":2', '"decimals":2e0'))).code).toBe(
      'E_DECODE',
    );
    expect(decodeFailure(() => dagJsonToCbor('{"a":[1,-0.5]}')).message).toMatch(/floats are not allowed/);
  });

  it('rejects malformed JSON with E_DECODE', () => {
    expect(decodeFailure(() => dagJsonToCbor('{"type":')).code).toBe('E_DECODE');
  });
});
