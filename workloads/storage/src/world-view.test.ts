import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { encode, idOf, nodeBackend, type CID, type SignedState } from '@dsm/protocol';
import type { Store } from '@dsm/runtime';
import { Feed } from './feed.js';
import { Ingest } from './ingest.js';
import { Journal } from './journal.js';
import { Queries } from './queries.js';
import { checkpointAt, directoryWorld, worldAsOf } from './world-view.js';
import { openTempStore, Signer, type TempStore } from '@dsm/testkit';

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore('dsm-world-view-');
  ({ store } = temp);
});

afterEach(() => temp.close());

const text = (id: CID | undefined) => id?.toString();
const idText = (signed: SignedState) => idOf(signed.state).toString();

/**
 * A creates a token (n 1), mints 5 (n 2) and 7 (n 3), and sends 10 to B (n 4); B receives it (n 1).
 * Everything is ingested through the parts as the Directory wires them.
 */
async function setUp() {
  const journal = await Journal.open(store);
  const queries = new Queries(store, journal);
  const feed = new Feed(store, journal, queries);
  const world = directoryWorld(queries);
  const ingest = new Ingest(journal, queries, world, feed, { backend: nodeBackend, maxObjectBytes: 262_144 });
  const a = new Signer();
  const b = new Signer();
  const objects: unknown[] = [...a.opening(), ...b.opening()];
  const { objects: tokenObjects, tokenId, token } = a.token([], 1000n);
  objects.push(...tokenObjects);
  const mint5 = a.next({ kind: 'token.mint', token: tokenId, amount: '5' });
  const mint7 = a.next({ kind: 'token.mint', token: tokenId, amount: '7' });
  const transfer = a.next({ kind: 'token.transfer', token: tokenId, amount: '10', to: b.identity });
  const receive = b.next({
    kind: 'token.receive',
    token: tokenId,
    amount: '10',
    from: a.identity,
    transfer: idOf(transfer.state),
  });
  objects.push(mint5, mint7, transfer, receive);
  for (const object of objects) await ingest.one(encode(object));
  const create = tokenObjects[2] as SignedState;
  return { queries, world, a, b, tokenId, token, create, mint5, mint7, transfer, receive };
}

describe('the World answered from the directory', () => {
  it('answers content by type, creations, accepted states and the fork oracle', async () => {
    const { world, a, tokenId, token, create, mint5 } = await setUp();
    expect(await world.tokenDefinition(tokenId)).toEqual(token);
    expect(await world.tokenDefinition(a.identity)).toBeUndefined(); // a genesis, not a token
    expect(text(await world.tokenCreation(tokenId))).toBe(idText(create));
    expect(await world.policy(token.policy)).toMatchObject({ type: 'dsm/policy@1' });
    expect(await world.policy(tokenId)).toBeUndefined();
    expect((await world.acceptedState(idOf(mint5.state)))?.n).toBe(2);
    expect(await world.isForked(a.identity)).toBe(false);
    // The fork oracle: another state at a taken height; nothing above the head; not the state itself.
    expect(text(await world.conflictingState(a.identity, 2, idOf(create.state)))).toBe(idText(mint5));
    expect(await world.conflictingState(a.identity, 2, idOf(mint5.state))).toBeUndefined();
    expect(await world.conflictingState(a.identity, 9, idOf(mint5.state))).toBeUndefined();
    const policy = (await world.policy(token.policy))!;
    expect(world.validPolicy!(token.policy, policy)).toBe(world.validPolicy!(token.policy, policy));
  });

  it("as of a fork candidate's parent, the identity's later token creations do not exist yet", async () => {
    const { queries, world, a, b, tokenId, create } = await setUp();
    expect(await worldAsOf(world, queries, a.identity, 0).tokenCreation(tokenId)).toBeUndefined();
    expect(text(await worldAsOf(world, queries, a.identity, 1).tokenCreation(tokenId))).toBe(idText(create));
    // Another identity's view is not cut: the token was created in A's chain.
    expect(text(await worldAsOf(world, queries, b.identity, 0).tokenCreation(tokenId))).toBe(idText(create));
    // Everything else is the directory's World.
    expect(await worldAsOf(world, queries, a.identity, 0).isForked(a.identity)).toBe(false);
  });

  it("the checkpoint as of a parent: the issued supply and the receives up to it, not the chain's later ones", async () => {
    const { queries, a, b, tokenId, create, mint5, transfer, receive } = await setUp();
    const mint = (n: number) => ({ ...mint5.state, n });
    const at = (signed: SignedState) => ({ stateId: idOf(signed.state), n: signed.state.n });
    const issued = async (parent: SignedState) =>
      (await checkpointAt(queries, a.identity, at(parent), mint(parent.state.n + 1))).issued.get(
        tokenId.toString(),
      );
    expect(await issued(create)).toBe(1000n);
    expect(await issued(mint5)).toBe(1005n);
    expect(await issued(transfer)).toBe(1012n);
    const parent = await checkpointAt(queries, a.identity, at(mint5), mint(3));
    expect([text(parent.stateId), parent.state.n]).toEqual([idText(mint5), 2]);

    const [b0] = await queries.chain(b.identity, 0, 1);
    const receiving = receive.state;
    const before = await checkpointAt(queries, b.identity, { stateId: b0!.stateId, n: 0 }, receiving);
    expect([...before.received]).toEqual([]);
    const afterIt = await checkpointAt(queries, b.identity, at(receive), { ...receiving, n: 2 });
    expect([...afterIt.received]).toEqual([idText(transfer)]);
  });
});
