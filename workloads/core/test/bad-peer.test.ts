/**
 * One bad storage node must not hurt the core (real core and storage processes, plus a real HTTP server
 * playing the bad node): a node that hangs, a node that lies about heads and forks, a bad address.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { eventually, freePort, Network } from '@dsm/testkit';

type Json = Record<string, unknown> & { error?: { code: string; details: Record<string, unknown> } };

/** A real HTTP server on 127.0.0.1 that answers with `handle` (which may never answer). */
async function fakeNode(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ address: string; close(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Forwards a request to a real storage node and relays its answer. */
async function proxy(target: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const upstream = await fetch(`${target}${req.url}`, {
    method: req.method,
    headers: Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
    ) as Record<string, string>,
    ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
  });
  res.writeHead(upstream.status, {
    'content-type': upstream.headers.get('content-type') ?? 'application/json',
  });
  res.end(Buffer.from(await upstream.arrayBuffer()));
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await work();
  return { ms: Date.now() - started, value };
}

describe('one bad storage node', () => {
  let net: Network;
  const fakes: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
    await net.destroy();
  });

  /** Restarts the core with `first` in front of the two real storage nodes. */
  async function withFirst(address: string): Promise<void> {
    await net.core.stop();
    net.core.storageNodes = [address, ...net.storage.map((s) => s.address)];
    await net.core.start();
  }

  it('a hanging node: ready, creation, head reads and exports answer from the healthy ones', async () => {
    net = await new Network().start({ coreEnv: { DSM_STORAGE_TIMEOUT_MS: '10000' } });
    const hanging = await fakeNode(() => undefined); // accepts, never answers
    fakes.push(hanging);
    await withFirst(hanging.address);
    await eventually(async () => (await fetch(`${net.core.url}/readyz`)).status === 200, 5000, 'ready');
    const ready = await timed(() => fetch(`${net.core.url}/readyz`));
    expect(ready.value.status).toBe(200);
    const created = await timed(() =>
      net.core.call<Json>('POST', '/v1/identities', { label: 'h', suite: 'ml-dsa-44' }),
    );
    expect(created.value.status).toBe(201);
    const id = created.value.body.identity as string;
    const details = await timed(() => net.core.call<Json>('GET', `/v1/identities/${id}`));
    expect(details.value.body.n).toBe(0);
    const exported = await timed(() => fetch(`${net.core.url}/v1/identities/${id}/export`));
    expect(exported.value.status).toBe(200);
    console.log(
      `hanging storage node: readyz ${ready.ms} ms, create ${created.ms} ms, head ${details.ms} ms, export ${exported.ms} ms`,
    );
    // Before: each waited for the hanging node's timeout (about 20 s with one retry).
    for (const step of [ready, created, details, exported]) expect(step.ms).toBeLessThan(5000);
  });

  it('a node lying about heads and forks cannot block or stall an identity', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    const real = net.storage[0]!.url;
    let lies = 0;
    const liar = await fakeNode((req, res) => {
      if (req.method === 'GET' && /\/v1\/identities\/[^/]+\/head$/.test(req.url ?? '')) {
        lies++;
        const identity = (req.url ?? '').split('/')[3];
        res.writeHead(200, { 'content-type': 'application/json' });
        // A head far ahead, pointing at an id that names the identity's genesis, and a fork that is not.
        res.end(JSON.stringify({ identity, n: 1000, stateId: identity, forked: true }));
        return;
      }
      void proxy(real, req, res).catch(() => res.destroy());
    });
    fakes.push(liar);
    const alice = (await net.core.call<Json>('POST', '/v1/identities', { label: 'a', suite: 'ml-dsa-44' }))
      .body.identity as string;
    const created = await net.core.call<Json>('POST', `/v1/identities/${alice}/tokens`, {
      symbol: 'L',
      name: 'Lie',
      initialSupply: '10',
      policy: { conditions: [] },
    });
    expect(created.status).toBe(201);
    await withFirst(liar.address); // a fresh core: no cached heads, it must ask the storage nodes
    const details = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body;
    expect(details).toMatchObject({ n: 1, forked: false });
    const burned = await net.core.call<Json>('POST', `/v1/identities/${alice}/burn`, {
      token: created.body.token,
      amount: '1',
    });
    expect(burned.status).toBe(201);
    expect(burned.body.n).toBe(2);
    expect(lies).toBeGreaterThan(0);
  });

  it('admin peers refuses a bad address and persists nothing; the core keeps working after a restart', async () => {
    net = await new Network().start();
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${net.core.p2pUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${net.core.adminToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    for (const peer of ['127.0.0.1:99999', 'host:0', ':80', 'a b:80', 'http://x:80']) {
      const res = await admin('POST', '/v1/admin/peers', { peer });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Json).error!.code).toBe('E_BAD_REQUEST');
    }
    const listed = (await (await admin('GET', '/v1/admin/peers')).json()) as { peers: unknown[] };
    expect(listed.peers).toHaveLength(2);
    await net.core.stop();
    await net.core.start();
    expect((await net.core.call('POST', '/v1/identities', { label: 'after' })).status).toBe(201);
  });
});
