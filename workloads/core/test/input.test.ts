/** Hostile input to a real core node: bodies of the wrong type act on nothing; numbers have one spelling. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import { serviceDocuments, VERSION } from '@dsm/api';
import { Network } from '@dsm/testkit';

type Json = Record<string, unknown> & { error?: { code: string; details: Record<string, unknown> } };

describe('core input checks', () => {
  const net = new Network();
  let alice: string;
  beforeAll(async () => {
    await net.start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    alice = (await net.core.call<Json>('POST', '/v1/identities', { label: 'alice', suite: 'ml-dsa-44' })).body
      .identity as string;
  });
  afterAll(() => net.destroy());

  const send = async (url: string, path: string, type: string, body: string | Uint8Array, token: string) => {
    const res = await fetch(`${url}${path}`, {
      method: path.startsWith('/v1/admin') ? 'PUT' : 'POST',
      headers: { 'content-type': type, authorization: `Bearer ${token}` },
      body,
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const hosted = async () =>
    (await net.core.call<{ identities: unknown[] }>('GET', '/v1/identities')).body.identities.length;

  it('a non-JSON body on a JSON route is 415 and nothing runs', async () => {
    const before = await hosted();
    const head = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.n;
    for (const [type, body] of [
      ['text/plain', '{"label":"x"}'],
      ['application/x-www-form-urlencoded', 'label=x'],
      ['application/vnd.ipld.dag-cbor', dagCbor.encode({ label: 'x' })],
    ] as const) {
      const created = await send(net.core.url, '/v1/identities', type, body, net.core.apiToken);
      expect([created.status, created.body.error!.code]).toEqual([415, 'E_UNSUPPORTED_MEDIA_TYPE']);
      const received = await send(
        net.core.url,
        `/v1/identities/${alice}/receive`,
        type,
        body,
        net.core.apiToken,
      );
      expect(received.status).toBe(415);
      const config = await send(net.core.p2pUrl, '/v1/admin/config', type, body, net.core.adminToken);
      expect(config.status).toBe(415);
    }
    expect(await hosted()).toBe(before);
    expect((await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.n).toBe(head);
  });

  it('numeric path and query parameters accept only canonical decimal integers', async () => {
    expect((await fetch(`${net.core.url}/v1/identities/${alice}/states/0`)).status).toBe(200);
    for (const n of ['0x0', '00', '+0', '0.0', '1e0', '%200']) {
      const res = await fetch(`${net.core.url}/v1/identities/${alice}/states/${n}`);
      expect([n, res.status]).toEqual([n, 400]);
    }
    for (const q of ['limit=1e4', 'limit=0x10', 'from=-1', 'limit=1&limit=2', 'from=01']) {
      const res = await fetch(`${net.core.url}/v1/identities/${alice}/chain?${q}`);
      expect([q, res.status]).toEqual([q, 400]);
    }
    expect((await fetch(`${net.core.url}/v1/identities/${alice}/inbox?pending=yes`)).status).toBe(400);
    expect((await fetch(`${net.core.url}/v1/identities/${alice}/chain?from=0&limit=10`)).status).toBe(200);
  });

  it('serves its OpenAPI documents on both ports', async () => {
    const documents = serviceDocuments(VERSION);
    expect(await (await fetch(`${net.core.url}/openapi.json`)).json()).toEqual(documents['core.json']);
    expect(await (await fetch(`${net.core.p2pUrl}/openapi.json`)).json()).toEqual(documents['core-p2p.json']);
  });
});
