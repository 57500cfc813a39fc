import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { encode, idOf, parseId, signState, nodeBackend, makeNextState } from '@dsm/protocol';
import { eventually, Network, Wallet } from '@dsm/testkit';

type Json = Record<string, unknown> & { error?: { code: string } };

const post = async (url: string, path: string, bytes: Uint8Array) => {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.ipld.dag-cbor' },
    body: bytes,
  });
  return { status: res.status, body: (await res.json()) as Json };
};

describe('states signed by clients that keep their own keys', () => {
  const net = new Network();
  beforeAll(async () => {
    await net.start();
  });
  afterAll(() => net.destroy());

  it('accepts a self-custody chain, pays it from a hosted identity, and takes its signed receive', async () => {
    const wallet = new Wallet();
    const [genesis, state0] = wallet.opening();
    expect((await post(net.core.url, '/v1/objects', encode(genesis))).status).toBe(201);
    expect((await post(net.core.url, '/v1/states', encode(state0))).status).toBe(201);

    const alice = (await net.core.call<Json>('POST', '/v1/identities', { label: 'alice' })).body
      .identity as string;
    const token = (
      await net.core.call<Json>('POST', `/v1/identities/${alice}/tokens`, {
        symbol: 'S',
        name: 'Self',
        initialSupply: '100',
        policy: { conditions: [] },
      })
    ).body.token as string;
    const sent = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, {
      token,
      amount: '40',
      to: wallet.identity.toString(),
    });
    expect(sent.status).toBe(201);

    // The core does not hold this wallet's keys: the wallet signs its own receive.
    const inbox = await net.core.call<{ entries: { transfer: string; received: boolean }[] }>(
      'GET',
      `/v1/identities/${wallet.identity}/inbox`,
    );
    expect(inbox.body.entries).toHaveLength(1);
    expect(inbox.body.entries[0]!.received).toBe(false);
    const receive = wallet.next({
      kind: 'token.receive',
      token: parseId(token),
      amount: '40',
      from: parseId(alice),
      transfer: parseId(sent.body.stateId as string),
    });
    const accepted = await post(net.core.url, '/v1/states', encode(receive));
    expect(accepted.status).toBe(201);
    expect(accepted.body.stateId).toBe(idOf(receive.state).toString());
    // The same state again (a client that lost the answer) is answered as before, not refused.
    const again = await post(net.core.url, '/v1/states', encode(receive));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ stateId: idOf(receive.state).toString(), resumed: true });
    await eventually(
      async () =>
        (
          await net.core.call<{ balances: Record<string, { available: string }> }>(
            'GET',
            `/v1/identities/${wallet.identity}/balances`,
          )
        ).body.balances[token]?.available === '40',
    );

    // A state whose clock is far from the node's is refused at first acceptance (±30 s).
    const late = wallet.sign(
      makeNextState(
        wallet.head,
        { kind: 'token.burn', token: parseId(token), amount: '1' },
        wallet.head.t + 120_000,
      ),
    );
    const refused = await post(net.core.url, '/v1/states', encode(late));
    expect(refused.status).toBe(400);
    expect(refused.body.error!.code).toBe('E_CLOCK');
    // A state signed with somebody else's key is refused.
    const forged = signState(nodeBackend, 'ml-dsa-44', nodeBackend.keygen('ml-dsa-44').secretKey, late.state);
    expect((await post(net.core.url, '/v1/states', encode(forged))).body.error!.code).toBe('E_SIGNATURE');
  });

  it('judges a client-signed chain that also advanced elsewhere by the storage nodes, whatever this node saw last', async () => {
    const wallet = new Wallet();
    const [genesis, state0] = wallet.opening();
    expect((await post(net.core.url, '/v1/objects', encode(genesis))).status).toBe(201);
    expect((await post(net.core.url, '/v1/states', encode(state0))).status).toBe(201);
    const { objects, tokenId } = wallet.token();
    for (const object of objects.slice(0, 2))
      expect((await post(net.core.url, '/v1/objects', encode(object))).status).toBe(201);
    expect((await post(net.core.url, '/v1/states', encode(objects[2]))).status).toBe(201);
    const burn = (amount: string) => wallet.next({ kind: 'token.burn', token: tokenId, amount });
    const direct = (state: ReturnType<typeof burn>) =>
      post(net.storage[0]!.url, '/v1/objects', encode(state));

    // The client writes its next state straight to a storage node, then one on top of it through this
    // core node, which last saw the create: that state does not extend it, so the storage nodes are asked.
    expect((await direct(burn('1'))).status).toBe(201);
    const next = burn('2');
    const accepted = await post(net.core.url, '/v1/states', encode(next));
    expect(accepted.status).toBe(201);
    expect(accepted.body.n).toBe(next.state.n);

    // Again straight to storage, then a second successor of what this node saw last, through this node:
    // it extends what this node saw, and the storage nodes keep it as fork evidence.
    expect((await direct(burn('1'))).status).toBe(201);
    const rival = wallet.sign(
      makeNextState(next.state, { kind: 'token.burn', token: tokenId, amount: '3' }, Date.now()),
    );
    const refused = await post(net.core.url, '/v1/states', encode(rival));
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({
      status: 409,
      code: 'E_FORK',
    });
    const forks = await net.core.call<{ forked: boolean }>('GET', `/v1/identities/${wallet.identity}/forks`);
    expect(forks.body.forked).toBe(true);
  });
});
