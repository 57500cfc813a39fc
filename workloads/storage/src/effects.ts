/**
 * What accepting a state does to the directory's records (protocol.md §7), as pure functions of the state
 * and of the records it changes as they were before: its height, the head when it advances it, the
 * recipient's inbox entry for a transfer, the receive marker, the token's creation and supply records. Also
 * the records of fork evidence, and how these records are encoded.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { idFromBytes, type CID, type State, type TokenDefinition } from '@dsm/protocol';
import { readU64be, u64be } from '@dsm/runtime';
import type { Put } from './journal.js';
import { keys } from './keys.js';

export interface Head {
  stateId: CID;
  n: number;
}

export interface Supply {
  issued: string;
  burned: string;
}

/** The records a state's effects depend on, read before it is committed. */
export interface Before {
  /** The chain's head (null: no state yet). */
  head: Head | null;
  /** token.create: the token's definition (its initialSupply opens the supply record). */
  token?: TokenDefinition;
  /** token.mint, token.burn: the token's supply record (absent: none yet). */
  supply?: Supply;
}

/** Whether a state at height `n` becomes the head (a fork candidate at a lower height does not). */
export function advancesHead(n: number, head: Head | null): boolean {
  return head === null || n > head.n;
}

/**
 * The records `state` (accepted, with id `stateId`, logged at `seq`) writes beyond its content and its log
 * entry: its height, the head when it advances it, and its operation's effect.
 */
export function effectsOf(state: State, stateId: CID, before: Before, seq: bigint): Put[] {
  const { identity, op } = state;
  const puts: Put[] = [[keys.height(identity, state.n), stateId.bytes]];
  if (advancesHead(state.n, before.head))
    puts.push([keys.head(identity), encodeHead({ stateId, n: state.n })]);
  switch (op.kind) {
    case 'token.transfer':
      puts.push([keys.inbox(op.to, seq), stateId.bytes]);
      break;
    case 'token.create': {
      if (before.token === undefined) throw new RangeError('token.create needs the token definition');
      puts.push([keys.creation(op.token), stateId.bytes]);
      puts.push([keys.supply(op.token), encodeSupply({ issued: before.token.initialSupply, burned: '0' })]);
      break;
    }
    case 'token.mint':
    case 'token.burn': {
      const supply = before.supply ?? { issued: '0', burned: '0' };
      const field = op.kind === 'token.mint' ? 'issued' : 'burned';
      const updated = { ...supply, [field]: (BigInt(supply[field]) + BigInt(op.amount)).toString() };
      puts.push([keys.supply(op.token), encodeSupply(updated)]);
      break;
    }
    case 'token.receive':
      puts.push([keys.received(op.transfer), stateId.bytes]);
      break;
    default:
      break;
  }
  return puts;
}

/**
 * The records of a valid second successor kept as evidence (§4 V7): the evidence, the forked marker and
 * the evidence's index entry by candidate.
 */
export function evidenceOf(
  identity: CID,
  n: number,
  existing: CID,
  candidate: CID,
  bytes: Uint8Array,
): Put[] {
  const evidenceKey = keys.evidence(identity, candidate);
  return [
    [evidenceKey, dagCbor.encode({ existing, n, bytes })],
    [keys.forked(identity), existing.bytes],
    [keys.evidenceByCandidate(candidate), evidenceKey],
  ];
}

export function encodeHead(head: Head): Buffer {
  return Buffer.concat([head.stateId.bytes, u64be(head.n)]);
}

export function decodeHead(value: Uint8Array): Head {
  return { stateId: idFromBytes(value.subarray(0, 36)), n: Number(readU64be(value, 36)) };
}

export function encodeSupply(supply: Supply): Uint8Array {
  return dagCbor.encode(supply);
}

export function decodeSupply(value: Uint8Array): Supply {
  return dagCbor.decode(value) as Supply;
}

export interface EvidenceRecord {
  existing: CID;
  n: number;
  /** The conflicting signed state as received. */
  bytes: Uint8Array;
}

export function decodeEvidence(value: Uint8Array): EvidenceRecord {
  return dagCbor.decode(value) as EvidenceRecord;
}
