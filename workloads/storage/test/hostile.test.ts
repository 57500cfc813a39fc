import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import { createServer, type Server } from 'node:http';
import { encode, idOf, makeNextState, nodeBackend, signState } from '@dsm/protocol';
import { Cluster, eventually, freePort, sleep, type StorageProcess } from '@dsm/testkit';
import { postBytes, postObject, Wallet } from '@dsm/testkit';

describe('hostile input', () => {
  const cluster = new Cluster();
  let a: StorageProcess;
  let b: StorageProcess;
  const alice = new Wallet();
  let tokenId: ReturnType<typeof idOf>;

  beforeAll(async () => {
    [a, b] = (await cluster.create(2)) as [StorageProcess, StorageProcess];
    await cluster.startAll();
    for (const object of alice.opening()) expect((await postObject(a.url, object)).status).toBe(201);
    const t = alice.token();
    tokenId = t.tokenId;
    for (const object of t.objects) expect((await postObject(a.url, object)).status).toBe(201);
  });
  afterAll(() => cluster.destroy());

  async function rejected(
    bytes: Uint8Array | string,
    status: number,
    code: string,
    headers: Record<string, string> = {},
    path = '/v1/objects',
  ) {
    const before = await a.status();
    const res = await fetch(`${a.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.ipld.dag-cbor', ...headers },
      body: typeof bytes === 'string' ? bytes : bytes,
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
    expect(body.error.message.length).toBeGreaterThan(5);
    const after = await a.status();
    expect(after.objects).toBe(before.objects);
    expect(after.lastSeq).toBe(before.lastSeq);
  }

  it('malformed CBOR, non-canonical CBOR and unknown types → 400 E_DECODE', async () => {
    await rejected(Uint8Array.from([0xff, 0xff, 0x00]), 400, 'E_DECODE');
    await rejected(Uint8Array.from([0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02]), 400, 'E_DECODE');
    await rejected(encode({ type: 'dsm/unknown@1' }), 400, 'E_DECODE');
    await rejected('{"type": "dsm/genesis@1"', 400, 'E_DECODE', {
      'content-type': 'application/vnd.ipld.dag-json',
    });
    await rejected('{}', 415, 'E_UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' });
  });

  it('oversized bodies → 413 E_TOO_LARGE, objects over the limit → E_DECODE', async () => {
    await rejected(new Uint8Array(2 * 1024 * 1024), 413, 'E_TOO_LARGE');
    await rejected(dagCbor.encode({ type: 'dsm/policy@1', blob: new Uint8Array(300_000) }), 400, 'E_DECODE');
  });

  it('wrong ids in URLs → 400 E_DECODE, unknown ids → 404', async () => {
    expect((await fetch(`${a.url}/v1/objects/not-a-cid`)).status).toBe(400);
    expect((await fetch(`${a.url}/v1/objects/${idOf({ nothing: 1 })}`)).status).toBe(404);
  });

  it('bad signatures, broken links and overdrafts → 4xx with codes, nothing stored', async () => {
    const next = makeNextState(alice.head, { kind: 'token.burn', token: tokenId, amount: '5' }, Date.now());
    const forged = { ...alice.sign(next), sig: new Uint8Array(2420).fill(7) };
    await rejected(encode(forged), 400, 'E_SIGNATURE');
    const someoneElse = signState(nodeBackend, 'ml-dsa-44', new Wallet().keys.secretKey, next);
    await rejected(encode(someoneElse), 400, 'E_SIGNATURE');
    const gap = alice.sign({
      ...makeNextState(next, { kind: 'token.burn', token: tokenId, amount: '1' }, Date.now()),
    });
    await rejected(encode(gap), 400, 'E_LINK');
    const wrongPrev = alice.sign({ ...next, prev: idOf({ other: true }) });
    await rejected(encode(wrongPrev), 400, 'E_LINK');
    const overdraft = makeNextState(
      alice.head,
      { kind: 'token.burn', token: tokenId, amount: '1' },
      Date.now(),
    );
    await rejected(encode(alice.sign({ ...overdraft, balances: {} })), 400, 'E_BALANCE');
    const stranger = new Wallet();
    await rejected(encode(stranger.sign(stranger.head)), 400, 'E_LINK');
  });

  it('a peer pushing forged data is refused the same way, and a peer serving forged data is ignored', async () => {
    const next = makeNextState(alice.head, { kind: 'token.burn', token: tokenId, amount: '5' }, Date.now());
    const forged = encode({ ...alice.sign(next), sig: new Uint8Array(2420).fill(1) });
    await rejected(forged, 400, 'E_SIGNATURE', { 'x-dsm-peer': b.address }, '/v1/replica/objects');

    // A "peer" whose replication log serves a forged state: the node takes nothing from it and keeps serving.
    const port = await freePort();
    const evil: Server = createServer((req, res) => {
      if (req.url?.startsWith('/v1/replication/log')) {
        res.setHeader('content-type', 'application/vnd.ipld.dag-cbor');
        res.end(
          Buffer.from(
            dagCbor.encode({ nodeId: 'evil', last: 1, entries: [{ seq: 1, kind: 0, bytes: forged }] }),
          ),
        );
      } else if (req.url?.startsWith('/v1/replication/digest')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ count: 0, fingerprint: '00', buckets: [] }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => evil.listen(port, '127.0.0.1', r));
    const before = await a.status();
    expect(
      (
        await a.admin('/v1/admin/peers', {
          method: 'POST',
          body: JSON.stringify({ peer: `127.0.0.1:${port}` }),
        })
      ).status,
    ).toBe(201);
    await eventually(
      async () => (await a.status()).peers.some((p) => p.address === `127.0.0.1:${port}` && p.up),
      10_000,
      'the evil peer to be polled',
    );
    await sleep(500);
    expect((await a.status()).objects).toBe(before.objects);
    expect((await fetch(`${a.url}/v1/objects/${idOf(next)}`)).status).toBe(404);
    await a.admin(`/v1/admin/peers/127.0.0.1:${port}`, { method: 'DELETE' });
    evil.close();
    // Still serving writes.
    expect(
      (await postObject(a.url, alice.next({ kind: 'token.burn', token: tokenId, amount: '1' }))).status,
    ).toBe(201);
  });

  it('admin endpoints reject missing and wrong tokens', async () => {
    expect((await fetch(`${a.url}/v1/admin/peers`)).status).toBe(401);
    const wrong = await fetch(`${a.url}/v1/admin/peers`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('E_UNAUTHORIZED');
    const bad = await a.admin('/v1/admin/peers', {
      method: 'POST',
      body: JSON.stringify({ peer: 'no port here' }),
    });
    expect(bad.status).toBe(400);
    expect((await postBytes(a.url, new Uint8Array(0))).status).toBe(400);
  });
});
