import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { idOf } from '@dsm/protocol';
import { Cluster, eventually, postObject, sleep, Wallet, type StorageProcess } from '@dsm/testkit';

describe('a shared peer token', () => {
  const cluster = new Cluster();
  let a: StorageProcess;
  let b: StorageProcess;
  let outsider: StorageProcess;

  beforeAll(async () => {
    [a, b, outsider] = (await cluster.create(3)) as [StorageProcess, StorageProcess, StorageProcess];
    a.peerToken = 'the-cluster-peer-token';
    b.peerToken = 'the-cluster-peer-token';
    outsider.peerToken = 'a-wrong-peer-token';
    await cluster.startAll();
  });
  afterAll(() => cluster.destroy());

  it('guards the replication routes: no token or a wrong one is 401', async () => {
    const routes: [string, RequestInit?][] = [
      ['/v1/replication/log'],
      ['/v1/replication/digest'],
      ['/v1/replication/buckets/0'],
      [
        '/v1/replica/objects',
        { method: 'POST', headers: { 'content-type': 'application/vnd.ipld.dag-cbor' } },
      ],
      [
        '/v1/replica/objects/batch',
        { method: 'POST', headers: { 'content-type': 'application/vnd.ipld.dag-cbor' } },
      ],
    ];
    for (const [path, init] of routes) {
      for (const authorization of [undefined, 'Bearer a-wrong-peer-token', 'Bearer '])
        expect({
          path,
          authorization,
          status: (
            await fetch(`${a.url}${path}`, {
              ...init,
              headers: { ...init?.headers, ...(authorization ? { authorization } : {}) },
            })
          ).status,
        }).toEqual({ path, authorization, status: 401 });
    }
    const ok = await fetch(`${a.url}/v1/replication/digest`, {
      headers: { authorization: 'Bearer the-cluster-peer-token' },
    });
    expect(ok.status).toBe(200);
    // Client routes stay open.
    expect((await fetch(`${a.url}/v1/status`)).status).toBe(200);
  });

  it('nodes with the same token replicate; a node with a wrong token gets nothing', async () => {
    const wallet = new Wallet();
    const ids: string[] = [];
    for (const object of wallet.opening()) {
      const ack = await postObject(a.url, object);
      expect(ack.status).toBe(201);
      expect(ack.body.replicas).toEqual([a.address, b.address]);
    }
    ids.push(idOf(wallet.genesis).toString(), idOf(wallet.head).toString());
    await eventually(
      async () => (await b.status()).objects === (await a.status()).objects,
      10_000,
      'b to converge',
    );
    await sleep(1500);
    expect((await outsider.status()).objects).toBe(0);
    for (const id of ids) expect(await outsider.has(id)).toBe(false);
    const peers = (await outsider.status()).peers;
    expect(peers.every((p) => /unauthori|token/i.test((p as { lastError?: string }).lastError ?? ''))).toBe(
      true,
    );
    // The outsider's own writes find no replica.
    const ack = await postObject(outsider.url, new Wallet().genesis);
    expect(ack.status).toBe(503);
  });

  it('the peer token adds and removes a peer (as the admin token does), and opens no other admin route', async () => {
    const as = (token: string, path: string, init: RequestInit = {}) =>
      fetch(`${a.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
    const extra = '127.0.0.1:9';
    const added = await as('the-cluster-peer-token', '/v1/admin/peers', {
      method: 'POST',
      body: JSON.stringify({ peer: extra }),
    });
    expect(added.status).toBe(201);
    expect(((await added.json()) as { peers: string[] }).peers).toContain(extra);
    const removed = await as('the-cluster-peer-token', `/v1/admin/peers/${encodeURIComponent(extra)}`, {
      method: 'DELETE',
    });
    expect(removed.status).toBe(200);
    expect((await removed.json()) as object).toMatchObject({ peer: extra, changed: true });
    // The admin token still does the same.
    expect(
      (await as(a.adminToken, '/v1/admin/peers', { method: 'POST', body: JSON.stringify({ peer: extra }) }))
        .status,
    ).toBe(201);
    expect(
      (await as(a.adminToken, `/v1/admin/peers/${encodeURIComponent(extra)}`, { method: 'DELETE' })).status,
    ).toBe(200);

    // Every other admin route refuses the peer token.
    const others: [string, RequestInit][] = [
      ['/v1/admin/peers', {}],
      ['/v1/admin/config', {}],
      ['/v1/admin/config', { method: 'PUT', body: JSON.stringify({ logLevel: 'debug' }) }],
      ['/v1/admin/sync', { method: 'POST' }],
    ];
    for (const [path, init] of others) {
      const res = await as('the-cluster-peer-token', path, init);
      const body = (await res.json()) as { error?: { code?: string } };
      expect({ path, method: init.method ?? 'GET', status: res.status, code: body.error?.code }).toEqual({
        path,
        method: init.method ?? 'GET',
        status: 401,
        code: 'E_UNAUTHORIZED',
      });
    }
    expect((await as(a.adminToken, '/v1/admin/config')).status).toBe(200);
  });

  it('a wrong token or none cannot change peers: 401 E_UNAUTHORIZED, nothing changed', async () => {
    const before = ((await (await a.admin('/v1/admin/peers')).json()) as { peers: unknown[] }).peers;
    for (const authorization of [undefined, 'Bearer a-wrong-peer-token', 'Bearer the-cluster-peer-token2']) {
      for (const [path, method, body] of [
        ['/v1/admin/peers', 'POST', JSON.stringify({ peer: '127.0.0.1:9' })],
        [`/v1/admin/peers/${encodeURIComponent(b.address)}`, 'DELETE', undefined],
      ] as const) {
        const res = await fetch(`${a.url}${path}`, {
          method,
          ...(body !== undefined ? { body } : {}),
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        });
        const answer = (await res.json()) as { error?: { code?: string } };
        expect({ authorization, method, status: res.status, code: answer.error?.code }).toEqual({
          authorization,
          method,
          status: 401,
          code: 'E_UNAUTHORIZED',
        });
      }
    }
    const after = ((await (await a.admin('/v1/admin/peers')).json()) as { peers: unknown[] }).peers;
    expect(after.map((p) => (p as { address: string }).address)).toEqual(
      before.map((p) => (p as { address: string }).address),
    );
  });

  it('/v1/status publishes the same peer entries as the admin peer list (what the operator judges catch-up by)', async () => {
    await eventually(
      async () => {
        const admin = ((await (await a.admin('/v1/admin/peers')).json()) as { peers: { address: string }[] })
          .peers;
        const status = (await a.status()).peers;
        // lagSeconds moves with the clock between the two requests; every other field is the same.
        const strip = (peers: object[]) =>
          peers.map((p) => {
            const { lagSeconds: _lag, ...rest } = p as { lagSeconds?: number };
            return rest;
          });
        return (
          JSON.stringify(strip(admin)) === JSON.stringify(strip(status)) &&
          status.every((p) => 'up' in p && 'behind' in p && 'address' in p)
        );
      },
      10_000,
      'the two peer lists to agree',
    );
    const status = (await a.status()).peers as { address: string; nodeId?: string; lastSyncAt?: string }[];
    const entry = status.find((p) => p.address === b.address);
    expect(entry).toMatchObject({ address: b.address, nodeId: b.name, up: true, behind: 0 });
    expect(typeof entry?.lastSyncAt).toBe('string');
  });
});
