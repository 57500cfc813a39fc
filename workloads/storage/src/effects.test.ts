import { describe, expect, it } from '@jest/globals';
import {
  idOf,
  makeGenesis,
  makeGenesisState,
  makeNextState,
  makePolicy,
  makeToken,
  nodeBackend,
  toHex,
  type CID,
  type Operation,
  type State,
} from '@dsm/protocol';
import {
  advancesHead,
  decodeEvidence,
  decodeHead,
  decodeSupply,
  effectsOf,
  encodeHead,
  encodeSupply,
  evidenceOf,
  type Before,
  type Head,
} from './effects.js';
import type { Put } from './journal.js';
import { keys } from './keys.js';

/** Puts as a key → value map (hex): a batch's order does not matter, its content does. */
const asMap = (puts: Put[]) => Object.fromEntries(puts.map(([key, value]) => [toHex(key), toHex(value)]));

/** An identity's genesis state: effects need no signature. */
function chainStart(seed: number) {
  const genesis = makeGenesis({
    suite: 'ml-dsa-44',
    publicKey: nodeBackend.keygen('ml-dsa-44').publicKey,
    kemPublicKey: nodeBackend.kemKeygen().publicKey,
    nonce: new Uint8Array(32).fill(seed),
  });
  const identity = idOf(genesis);
  return { identity, head: makeGenesisState(identity, 1_760_000_000_000) };
}

const issuer = chainStart(1);
const holder = chainStart(2);
const token = makeToken({
  issuer: issuer.identity,
  symbol: 'TST',
  name: 'Test',
  decimals: 0,
  initialSupply: 100n,
  policy: idOf(makePolicy(issuer.identity, [])),
  nonce: new Uint8Array(32),
});
const tokenId = idOf(token);
const s0 = issuer.head;
const create = makeNextState(s0, { kind: 'token.create', token: tokenId }, s0.t, token);
const headAt = (state: State): Head => ({ stateId: idOf(state), n: state.n });
const after = (op: Operation) => makeNextState(create, op, create.t);
/** The height and head records every state that extends its chain writes. */
const chainRecords = (state: State): Put[] => [
  [keys.height(state.identity, state.n), idOf(state).bytes],
  [keys.head(state.identity), encodeHead(headAt(state))],
];
const effects = (state: State, before: Before, seq = 1n) =>
  asMap(effectsOf(state, idOf(state), Object.freeze(before), seq));

describe('effectsOf', () => {
  it('state 0 writes its height and becomes the head', () => {
    expect(effects(s0, { head: null })).toEqual(asMap(chainRecords(s0)));
  });

  it('token.create records the creation and opens the supply at the initial supply', () => {
    expect(effects(create, { head: headAt(s0), token })).toEqual(
      asMap([
        ...chainRecords(create),
        [keys.creation(tokenId), idOf(create).bytes],
        [keys.supply(tokenId), encodeSupply({ issued: '100', burned: '0' })],
      ]),
    );
    expect(() => effectsOf(create, idOf(create), { head: headAt(s0) }, 1n)).toThrow(RangeError);
  });

  it('token.mint adds to the issued supply, token.burn to the burned, from nothing or from the record', () => {
    const mint = after({ kind: 'token.mint', token: tokenId, amount: '5' });
    const burn = after({ kind: 'token.burn', token: tokenId, amount: '7' });
    const supply = Object.freeze({ issued: '100', burned: '1' });
    const supplyOf = (puts: Record<string, string>) =>
      decodeSupply(Buffer.from(puts[toHex(keys.supply(tokenId))]!, 'hex'));
    expect(supplyOf(effects(mint, { head: headAt(create), supply }))).toEqual({ issued: '105', burned: '1' });
    expect(supplyOf(effects(mint, { head: headAt(create) }))).toEqual({ issued: '5', burned: '0' });
    expect(supplyOf(effects(burn, { head: headAt(create), supply }))).toEqual({ issued: '100', burned: '8' });
    expect(Object.keys(effects(mint, { head: headAt(create), supply }))).toHaveLength(3);
  });

  it("token.transfer puts the transfer into the recipient's inbox at its log seq", () => {
    const transfer = after({ kind: 'token.transfer', token: tokenId, amount: '3', to: holder.identity });
    expect(effects(transfer, { head: headAt(create) }, 7n)).toEqual(
      asMap([...chainRecords(transfer), [keys.inbox(holder.identity, 7n), idOf(transfer).bytes]]),
    );
  });

  it('token.receive marks the transfer received by this state', () => {
    const transfer = after({ kind: 'token.transfer', token: tokenId, amount: '3', to: holder.identity });
    const receive = makeNextState(
      holder.head,
      { kind: 'token.receive', token: tokenId, amount: '3', from: issuer.identity, transfer: idOf(transfer) },
      holder.head.t,
    );
    expect(effects(receive, { head: headAt(holder.head) })).toEqual(
      asMap([...chainRecords(receive), [keys.received(idOf(transfer)), idOf(receive).bytes]]),
    );
  });

  it('lock and unlock change no directory record beyond the chain', () => {
    const lock = after({ kind: 'token.lock', token: tokenId, amount: '3', purpose: 'escrow' });
    expect(effects(lock, { head: headAt(create) })).toEqual(asMap(chainRecords(lock)));
  });

  it('a state at or below the head (a fork candidate) takes its height but not the head', () => {
    const head = headAt(after({ kind: 'token.burn', token: tokenId, amount: '1' }));
    const candidate = after({ kind: 'token.lock', token: tokenId, amount: '3', purpose: 'x' });
    expect(effects(candidate, { head })).toEqual(asMap([chainRecords(candidate)[0]!]));
    expect(advancesHead(0, null)).toBe(true);
    expect(advancesHead(3, { stateId: head.stateId, n: 2 })).toBe(true);
    expect(advancesHead(2, { stateId: head.stateId, n: 2 })).toBe(false);
    expect(advancesHead(1, { stateId: head.stateId, n: 2 })).toBe(false);
  });

  it('is pure: the same input gives the same records', () => {
    const mint = after({ kind: 'token.mint', token: tokenId, amount: '5' });
    const before = { head: headAt(create), supply: { issued: '1', burned: '0' } };
    expect(effects(mint, before, 3n)).toEqual(effects(mint, before, 3n));
    expect(before.supply).toEqual({ issued: '1', burned: '0' });
  });
});

describe('records', () => {
  const existing: CID = idOf(create);
  const candidate: CID = idOf(s0);

  it('fork evidence: the evidence record, the forked marker and the index entry by candidate', () => {
    const bytes = Uint8Array.of(1, 2, 3);
    const puts = evidenceOf(issuer.identity, 1, existing, candidate, bytes);
    expect(puts.map(([key]) => toHex(key))).toEqual([
      toHex(keys.evidence(issuer.identity, candidate)),
      toHex(keys.forked(issuer.identity)),
      toHex(keys.evidenceByCandidate(candidate)),
    ]);
    expect(decodeEvidence(puts[0]![1])).toEqual({ existing, n: 1, bytes });
    expect(puts[1]![1]).toEqual(existing.bytes);
    expect(toHex(puts[2]![1])).toBe(toHex(keys.evidence(issuer.identity, candidate)));
  });

  it('heads and supplies read back as written', () => {
    expect(decodeHead(encodeHead({ stateId: existing, n: 12 }))).toEqual({ stateId: existing, n: 12 });
    expect(decodeSupply(encodeSupply({ issued: '10', burned: '2' }))).toEqual({ issued: '10', burned: '2' });
  });
});
