import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { encode, idOf, nodeBackend, type CID, type SignedState } from '@dsm/protocol';
import type { Store } from '@dsm/runtime';
import { Directory } from './directory.js';
import { Journal } from './journal.js';
import { Queries } from './queries.js';
import { openTempStore, Signer, type TempStore } from '@dsm/testkit';

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore('dsm-queries-');
  ({ store } = temp);
});

afterEach(() => temp.close());

const text = (id: CID | undefined) => id?.toString();
const idText = (signed: SignedState) => idOf(signed.state).toString();

/**
 * A creates a token, mints, burns, sends two transfers to B (one with a memo); B receives the first; A then
 * signs a second successor of its first transfer (a fork at n 5).
 */
async function setUp() {
  const directory = await Directory.open(store, { backend: nodeBackend, maxObjectBytes: 262_144 });
  const a = new Signer();
  const b = new Signer();
  const objects: unknown[] = [...a.opening(), ...b.opening()];
  const { objects: tokenObjects, tokenId } = a.token([], 1000n);
  objects.push(...tokenObjects);
  const mint = a.next({ kind: 'token.mint', token: tokenId, amount: '50' });
  const burn = a.next({ kind: 'token.burn', token: tokenId, amount: '20' });
  const first = a.next({ kind: 'token.transfer', token: tokenId, amount: '10', to: b.identity });
  const second = a.next({
    kind: 'token.transfer',
    token: tokenId,
    amount: '3',
    to: b.identity,
    memo: 'rent',
  });
  const receive = b.next({
    kind: 'token.receive',
    token: tokenId,
    amount: '10',
    from: a.identity,
    transfer: idOf(first.state),
  });
  objects.push(mint, burn, first, second, receive);
  for (const object of objects) await directory.ingest(encode(object));
  a.head = first.state;
  const fork = a.next({ kind: 'token.burn', token: tokenId, amount: '1' });
  await expect(directory.ingest(encode(fork))).rejects.toMatchObject({ code: 'E_FORK' });
  const create = tokenObjects[2] as SignedState;
  return { directory, a, b, tokenId, create, mint, burn, first, second, receive, fork };
}

describe('queries', () => {
  it('heads, heights and chains', async () => {
    const { directory, a, b, second, receive, mint } = await setUp();
    for (const queries of [directory, new Queries(store, await Journal.open(store))]) {
      const head = await queries.head(a.identity);
      expect([text(head?.stateId), head?.n]).toEqual([idText(second), 5]);
      expect(text((await queries.head(b.identity))?.stateId)).toBe(idText(receive));
      expect(await queries.head(idOf(mint.state))).toBeNull();
      expect(text(await queries.stateIdAt(a.identity, 2))).toBe(idText(mint));
      expect(await queries.stateIdAt(a.identity, 6)).toBeUndefined();
      const chain = await queries.chain(a.identity);
      expect(chain.map((s) => s.n)).toEqual([0, 1, 2, 3, 4, 5]);
      expect((await queries.chain(a.identity, 2, 2)).map((s) => [s.n, text(s.stateId)])).toEqual([
        [2, idText(mint)],
        [3, chain[3]!.stateId.toString()],
      ]);
      expect((await queries.signedState(idOf(mint.state)))?.state.n).toBe(2);
      expect(await queries.signedState(a.identity)).toBeUndefined(); // a genesis, not a state
      expect((await queries.genesis(a.identity))?.type).toBe('dsm/genesis@1');
    }
  });

  it('token creation and supply: issued is initialSupply plus mints, burned the burns', async () => {
    const { directory, a, tokenId, create } = await setUp();
    for (const queries of [directory, new Queries(store, await Journal.open(store))]) {
      expect(text(await queries.creation(tokenId))).toBe(idText(create));
      expect(await queries.creation(a.identity)).toBeUndefined();
      expect(await queries.supply(tokenId)).toEqual({ issued: '1050', burned: '20' });
      expect(await queries.supply(a.identity)).toBeUndefined();
    }
  });

  it('inbox and transfers: ordered entries, the received one marked with its receive', async () => {
    const { directory, a, b, tokenId, first, second, receive, mint } = await setUp();
    const inbox = await directory.inbox(b.identity);
    expect(inbox.map((e) => [text(e.transfer), e.amount, e.memo, text(e.receivedBy)])).toEqual([
      [idText(first), '10', undefined, idText(receive)],
      [idText(second), '3', 'rent', undefined],
    ]);
    expect(inbox[0]!.seq).toBeLessThan(inbox[1]!.seq);
    expect(text(inbox[0]!.from)).toBe(a.identity.toString());
    expect(text(inbox[0]!.token)).toBe(tokenId.toString());
    expect((await directory.inbox(b.identity, { pendingOnly: true })).map((e) => text(e.transfer))).toEqual([
      idText(second),
    ]);
    expect(await directory.inbox(b.identity, { limit: 1 })).toHaveLength(1);
    expect(await directory.inbox(a.identity)).toEqual([]);

    const entry = await directory.transfer(idOf(second.state));
    expect([text(entry?.to), entry?.amount, entry?.memo, entry?.receivedBy]).toEqual([
      b.identity.toString(),
      '3',
      'rent',
      undefined,
    ]);
    expect(text((await directory.transfer(idOf(first.state)))?.receivedBy)).toBe(idText(receive));
    expect(await directory.transfer(idOf(mint.state))).toBeUndefined(); // not a transfer
  });

  it('forks: the evidence of a forked identity, kept and served from disk', async () => {
    const { directory, a, b, first, second, fork } = await setUp();
    const cold = new Queries(store, await Journal.open(store));
    await cold.reloadForks();
    for (const queries of [directory, cold]) {
      const [evidence, ...more] = await queries.forks(a.identity);
      expect(more).toEqual([]);
      expect([evidence!.n, text(evidence!.existing), text(evidence!.candidate)]).toEqual([
        5,
        idText(second),
        idText(fork),
      ]);
      expect(evidence!.candidateBytes).toEqual(encode(fork));
      expect(await queries.forks(b.identity)).toEqual([]);
      expect(queries.forkedIdentities().map(String)).toEqual([a.identity.toString()]);
    }
    expect(cold.isForked(a.identity)).toBe(true);
    expect(cold.isForked(b.identity)).toBe(false);
    expect(cold.isEvidence(idOf(fork.state))).toBe(true);
    expect(cold.isEvidence(idOf(first.state))).toBe(false);
    expect(await directory.world.isForked(a.identity)).toBe(true);
  });

  it('a reopened directory answers the same', async () => {
    const { directory, a, b } = await setUp();
    const reopened = await Directory.open(store, { backend: nodeBackend, maxObjectBytes: 262_144 });
    for (const identity of [a.identity, b.identity]) {
      expect(text((await reopened.head(identity))?.stateId)).toBe(
        text((await directory.head(identity))?.stateId),
      );
      expect((await reopened.inbox(identity)).length).toBe((await directory.inbox(identity)).length);
    }
    expect(reopened.stats()).toEqual(directory.stats());
    expect(reopened.forkedIdentities().map(String)).toEqual([a.identity.toString()]);
  });
});
