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
});
