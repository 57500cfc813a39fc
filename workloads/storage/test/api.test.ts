import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import { join } from 'node:path';
import { encode, idOf, toDagJson } from '@dsm/protocol';
import { serviceDocuments, VERSION } from '@dsm/api';
import { Store } from '@dsm/runtime';
import { Cluster, postObject, Wallet, type StorageProcess } from '@dsm/testkit';
import { keys } from '../src/keys.js';

async function errorOf(res: Response): Promise<{ status: number; code: string; field: unknown }> {
  const body = (await res.json()) as {
    error: { code: string; message: string; details: { field?: unknown } };
  };
  return { status: res.status, code: body.error.code, field: body.error.details.field };
}

describe('the HTTP API', () => {
  const cluster = new Cluster();
  let a: StorageProcess;
  let b: StorageProcess;
  const wallet = new Wallet();

  beforeAll(async () => {
    [a, b] = (await cluster.create(2)) as [StorageProcess, StorageProcess];
    await cluster.startAll();
  });
  afterAll(() => cluster.destroy());

  it('answers 201 stored:true for new bytes and 200 stored:false for bytes it already holds', async () => {
    const [genesis, state0] = wallet.opening();
    for (const object of [genesis, state0]) {
      const first = await postObject(a.url, object);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ stored: true });
      for (const url of [a.url, b.url]) {
        const again = await postObject(url, object);
        expect(again.status).toBe(200);
        expect(again.body).toMatchObject({ id: first.body.id, stored: false });
      }
    }
    // The same object as DAG-JSON is the same bytes once converted.
    const res = await fetch(`${a.url}/v1/objects`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.ipld.dag-json' },
      body: Buffer.from(toDagJson(dagCbor.decode(encode(genesis)))),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: idOf(genesis).toString(), stored: false });
  });

  it('accepts only canonical decimal integers and true/false in queries and paths', async () => {
    const id = wallet.identity.toString();
    const bad: [string, string][] = [
      [`/v1/identities/${id}/states/0x1`, 'n'],
      [`/v1/identities/${id}/states/1e0`, 'n'],
      [`/v1/identities/${id}/states/01`, 'n'],
      [`/v1/identities/${id}/states/-1`, 'n'],
      [`/v1/identities/${id}/states/1.0`, 'n'],
      [`/v1/identities/${id}/states/99999999999999999999`, 'n'],
      [`/v1/identities/${id}/states?limit=1e4`, 'limit'],
      [`/v1/identities/${id}/states?limit=0x10`, 'limit'],
      [`/v1/identities/${id}/states?limit=`, 'limit'],
      [`/v1/identities/${id}/states?limit=%205`, 'limit'],
      [`/v1/identities/${id}/states?limit=0`, 'limit'],
      [`/v1/identities/${id}/states?limit=10001`, 'limit'],
      [`/v1/identities/${id}/states?limit=1&limit=2`, 'limit'],
      [`/v1/identities/${id}/states?from=0x1`, 'from'],
      [`/v1/identities/${id}/states?from=-0`, 'from'],
      [`/v1/identities/${id}/inbox?limit=1e3`, 'limit'],
      [`/v1/identities/${id}/inbox?pending=yes`, 'pending'],
      [`/v1/identities/${id}/inbox?pending=1`, 'pending'],
      [`/v1/identities/${id}/inbox?pending=true&pending=false`, 'pending'],
      [`/v1/objects/${id}?evidence=1`, 'evidence'],
      [`/v1/objects/${id}?evidence=TRUE`, 'evidence'],
      ['/v1/replication/log?limit=1e4', 'limit'],
      ['/v1/replication/log?after=01', 'after'],
      ['/v1/replication/log?after=1&after=2', 'after'],
      ['/v1/replication/buckets/0x1', 'bucket'],
      ['/v1/replication/buckets/256', 'bucket'],
      ['/v1/replication/buckets/07', 'bucket'],
    ];
    for (const [path, field] of bad)
      expect({ path, ...(await errorOf(await fetch(`${a.url}${path}`))) }).toEqual({
        path,
        status: 400,
        code: 'E_BAD_REQUEST',
        field,
      });
    const good = [
      `/v1/identities/${id}/states/0`,
      `/v1/identities/${id}/states?from=0&limit=10000`,
      `/v1/identities/${id}/inbox?pending=true&limit=5`,
      `/v1/identities/${id}/inbox?pending=false`,
      `/v1/objects/${id}?evidence=true`,
      `/v1/objects/${id}?evidence=false`,
      '/v1/replication/log?after=0&limit=10000',
      '/v1/replication/buckets/255',
    ];
    for (const path of good)
      expect({ path, status: (await fetch(`${a.url}${path}`)).status }).toEqual({ path, status: 200 });
  });

  it('serves its OpenAPI document', async () => {
    expect(await (await fetch(`${a.url}/openapi.json`)).json()).toEqual(
      serviceDocuments(VERSION)['storage.json'],
    );
  });

  it('admin routes take JSON only: another body is 415 and changes nothing', async () => {
    for (const [type, body] of [
      ['text/plain', '{"peer":"127.0.0.1:1"}'],
      ['application/vnd.ipld.dag-cbor', dagCbor.encode({ peer: '127.0.0.1:1' })],
    ] as const) {
      const res = await a.admin('/v1/admin/peers', {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      expect(await errorOf(res)).toMatchObject({ status: 415, code: 'E_UNSUPPORTED_MEDIA_TYPE' });
    }
    const peers = (await (await a.admin('/v1/admin/peers')).json()) as { peers: { address: string }[] };
    expect(peers.peers.map((p) => p.address)).toEqual([b.address]);
  });

  it('refuses bad peer addresses with 400 E_BAD_REQUEST and persists nothing', async () => {
    const list = async () =>
      ((await (await a.admin('/v1/admin/peers')).json()) as { peers: { address: string }[] }).peers.map(
        (p) => p.address,
      );
    const before = await list();
    const bad = [
      '127.0.0.1:99999',
      'host:0',
      ':80',
      'a b:80',
      'http://x:80',
      'host:080',
      'host',
      'host:',
      '',
    ];
    for (const peer of bad) {
      const res = await a.admin('/v1/admin/peers', { method: 'POST', body: JSON.stringify({ peer }) });
      expect({ peer, ...(await errorOf(res)) }).toEqual({
        peer,
        status: 400,
        code: 'E_BAD_REQUEST',
        field: 'peer',
      });
    }
    const removal = await a.admin(`/v1/admin/peers/${encodeURIComponent('a b:80')}`, { method: 'DELETE' });
    expect((await errorOf(removal)).status).toBe(400);
    expect(await list()).toEqual(before);
    await a.stop();
    await a.start();
    expect(await list()).toEqual(before);
  });

  it('skips bad entries of a persisted peer list (older versions) with a warning', async () => {
    await b.stop();
    const store = await Store.open(join(b.dir, 'data', 'rocksdb'));
    const persisted = ['127.0.0.1:99999', 'host:0', 42, 'http://x:80', a.address, { peer: 'x' }];
    await store.batch().put(keys.meta('peers'), dagCbor.encode(persisted)).write({ sync: true });
    await store.close();
    await b.start();
    const peers = (await (await b.admin('/v1/admin/peers')).json()) as { peers: { address: string }[] };
    expect(peers.peers.map((p) => p.address)).toEqual([a.address]);
    expect(b.output).toMatch(/skipped a bad peer address/);
    expect((await postObject(b.url, new Wallet().genesis)).status).toBe(201);

    // A persisted value that is not a list at all: the configured peers are used.
    await b.stop();
    const again = await Store.open(join(b.dir, 'data', 'rocksdb'));
    await again.batch().put(keys.meta('peers'), Uint8Array.of(0xff, 0x00)).write({ sync: true });
    await again.close();
    await b.start();
    const configured = (await (await b.admin('/v1/admin/peers')).json()) as { peers: { address: string }[] };
    expect(configured.peers.map((p) => p.address)).toEqual(b.peers);
    expect((await postObject(b.url, new Wallet().genesis)).status).toBe(201);
  });
});
