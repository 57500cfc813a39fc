/**
 * protocol.md §10: the core gives the same answer for the same bytes as the storage nodes do (real
 * processes): a fork submitted to the core, DAG-JSON objects measured by their DAG-CBOR size, an invalid
 * policy, content that is already stored.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as dagJson from '@ipld/dag-json';
import { encode, idOf, makeNextState, makePolicy, makeToken } from '@dsm/protocol';
import { Network, Wallet } from '@dsm/testkit';

type Json = Record<string, unknown> & { error?: { code: string; details: Record<string, unknown> } };

const post = async (url: string, path: string, body: Uint8Array, type = 'application/vnd.ipld.dag-cbor') => {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, body: (await res.json()) as Json };
};

describe('the core answers the same bytes as storage does', () => {
  const net = new Network();
  beforeAll(async () => {
    await net.start();
  });
  afterAll(() => net.destroy());

  /** A self-custody wallet with its opening and a token, written through the core. */
  async function funded(): Promise<{ wallet: Wallet; tokenId: ReturnType<typeof idOf> }> {
    const wallet = new Wallet();
    const [genesis, state0] = wallet.opening();
    expect((await post(net.core.url, '/v1/objects', encode(genesis))).status).toBe(201);
    expect((await post(net.core.url, '/v1/states', encode(state0))).status).toBe(201);
    const t = wallet.token();
    const [policy, token, create] = t.objects;
    expect((await post(net.core.url, '/v1/objects', encode(policy))).status).toBe(201);
    expect((await post(net.core.url, '/v1/objects', encode(token))).status).toBe(201);
    expect((await post(net.core.url, '/v1/states', encode(create))).status).toBe(201);
    return { wallet, tokenId: t.tokenId };
  }

  it('a second successor sent to the core is 409 E_FORK, kept as evidence and served', async () => {
    const { wallet, tokenId } = await funded();
    const base = wallet.head;
    const first = wallet.next({ kind: 'token.burn', token: tokenId, amount: '1' });
    expect((await post(net.core.url, '/v1/states', encode(first))).status).toBe(201);
    const sibling = wallet.sign(
      makeNextState(base, { kind: 'token.burn', token: tokenId, amount: '2' }, base.t + 5),
    );
    const forked = await post(net.core.url, '/v1/states', encode(sibling));
    expect(forked.status).toBe(409);
    expect(forked.body.error!.code).toBe('E_FORK');
    const id = wallet.identity.toString();
    const evidence = (await net.core.call<Json>('GET', `/v1/identities/${id}/forks`)).body;
    expect(evidence.forked).toBe(true);
    expect(evidence.evidence).toEqual([
      expect.objectContaining({ n: base.n + 1, candidate: idOf(sibling.state).toString() }),
    ]);
    expect((await net.core.call<Json>('GET', `/v1/identities/${id}`)).body.forked).toBe(true);
    // The same bytes to a storage node: the same code.
    expect((await post(net.storage[1]!.url, '/v1/objects', encode(sibling))).status).toBe(409);
  });

  it('measures the 256 KiB limit on the DAG-CBOR bytes, not on the DAG-JSON body', async () => {
    const author = new Wallet().identity;
    // 120 keys of 1,952 bytes: ~234 KB as DAG-CBOR, ~313 KB as DAG-JSON (base64).
    const signers = Array.from({ length: 120 }, (_, i) => new Uint8Array(1952).fill(i));
    const policy = makePolicy(author, [
      { kind: 'coSign', signers, suite: 'ml-dsa-65', threshold: 1, ops: ['token.transfer'] },
    ]);
    const cbor = encode(policy);
    const json = dagJson.encode(policy);
    expect(cbor.length).toBeLessThanOrEqual(262_144);
    expect(json.length).toBeGreaterThan(262_144);
    const viaJson = await post(net.core.url, '/v1/objects', json, 'application/vnd.ipld.dag-json');
    expect(viaJson.status).toBe(201);
    expect(viaJson.body.id).toBe(idOf(policy).toString());
    // Over the limit as DAG-CBOR: E_DECODE in either spelling.
    const big = makePolicy(author, [{ kind: 'operations', allow: [] }], 'x'.repeat(263_000));
    const tooBig = await post(
      net.core.url,
      '/v1/objects',
      dagJson.encode(big),
      'application/vnd.ipld.dag-json',
    );
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error!.code).toBe('E_DECODE');
  });

  it('an invalid policy is stored; a token bound to it is refused with E_POLICY at token.create', async () => {
    const wallet = new Wallet();
    const [genesis, state0] = wallet.opening();
    await post(net.core.url, '/v1/objects', encode(genesis));
    await post(net.core.url, '/v1/states', encode(state0));
    const policy = makePolicy(wallet.identity, [{ kind: 'noSuchCondition' }]);
    expect((await post(net.core.url, '/v1/objects', encode(policy))).status).toBe(201);
    const token = makeToken({
      issuer: wallet.identity,
      symbol: 'BAD',
      name: 'Bad policy',
      decimals: 0,
      initialSupply: 10n,
      policy: idOf(policy),
      nonce: new Uint8Array(32).fill(7),
    });
    expect((await post(net.core.url, '/v1/objects', encode(token))).status).toBe(201);
    const create = wallet.next({ kind: 'token.create', token: idOf(token) }, token);
    const refused = await post(net.core.url, '/v1/states', encode(create));
    expect(refused.status).toBe(400);
    expect(refused.body.error!.code).toBe('E_POLICY');
    const atStorage = await post(net.storage[0]!.url, '/v1/objects', encode(create));
    expect(atStorage.body.error!.code).toBe('E_POLICY');
  });

  it('content already stored: 200 stored:false from the core as from storage', async () => {
    const policy = makePolicy(new Wallet().identity, [], 'twice');
    expect((await post(net.core.url, '/v1/objects', encode(policy))).status).toBe(201);
    const core = await post(net.core.url, '/v1/objects', encode(policy));
    const storage = await post(net.storage[0]!.url, '/v1/objects', encode(policy));
    expect([core.status, core.body.stored]).toEqual([200, false]);
    expect([storage.status, storage.body.stored]).toEqual([200, false]);
  });
});
