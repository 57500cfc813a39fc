import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DsmError, isDsmError } from '@dsm/protocol';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { HttpClient, parseErrorBody } from './client.js';
import { createHttpApp, rawBody, requestBytes, serve, type ServerHandle } from './http.js';
import { createLogger } from './log.js';
import { DAG_CBOR } from './media.js';
import { createMetricsRegistry } from './metrics.js';

let handle: ServerHandle;
let base: string;
const hits = new Map<string, number>();

function hit(name: string): number {
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  return n;
}

beforeAll(async () => {
  const logger = createLogger({ service: 'client-test', level: 'silent' });
  const { app, router } = createHttpApp({
    service: 'client-test',
    logger,
    registry: createMetricsRegistry({ defaultMetrics: false }),
  });
  router.get('/api/items/:id', (req, res) => {
    res.json({ id: req.params.id, query: req.query, auth: req.get('authorization') ?? null });
  });
  router.post('/api/items', (req, res) => {
    res.status(201).json({ created: req.body as unknown });
  });
  router.all('/api/flaky/:name', (req, res) => {
    const n = hit(req.params.name as string);
    if (n <= 2) throw new DsmError('E_UNAVAILABLE', `storage down (attempt ${n})`, { attempt: n });
    res.json({ attempts: n });
  });
  router.get('/api/broken', () => {
    hit('broken');
    throw new Error('bug');
  });
  router.all('/api/slow/:name', async (req, res) => {
    const n = hit(`slow-${req.params.name as string}`);
    if (n === 1) await new Promise((resolve) => setTimeout(resolve, 300));
    res.json({ attempts: n });
  });
  router.get('/api/retry-after', (_req, res) => {
    const n = hit('retry-after');
    if (n === 1) {
      res.setHeader('retry-after', '1');
      res.status(503).json({ error: { code: 'E_UNAVAILABLE', message: 'busy', details: {} } });
      return;
    }
    res.json({ attempts: n });
  });
  router.get('/api/busy', (_req, res) => {
    hit('busy');
    res.setHeader('retry-after', '5');
    res.status(503).json({ error: { code: 'E_UNAVAILABLE', message: 'busy', details: {} } });
  });
  router.get('/api/rejected', () => {
    throw new DsmError('E_POLICY', 'policy forbids transfer', { condition: 'maxAmount', field: 'amount' });
  });
  router.get('/api/plain-404', (_req, res) => {
    res.status(404).type('text/plain').send('not here');
  });
  router.get('/api/future-code', (_req, res) => {
    res.status(409).json({ error: { code: 'E_FROM_THE_FUTURE', message: 'newer peer', details: { x: 1 } } });
  });
  router.get('/api/odd-shape', (_req, res) => {
    res.json({ count: 'three' });
  });
  router.get('/api/not-json', (_req, res) => {
    res.type('text/plain').send('hello');
  });
  router.get('/api/empty', (_req, res) => {
    res.status(204).end();
  });
  router.post('/api/objects', rawBody(), (req, res) => {
    res.json({ hex: requestBytes(req).toString('hex'), type: req.get('content-type') });
  });
  router.get('/api/objects/1', (_req, res) => {
    res.type(DAG_CBOR).send(Buffer.from([0xa1, 0x61, 0x61, 0x01]));
  });
  handle = await serve(app, { port: 0, host: '127.0.0.1' });
  base = `${handle.url}/api`;
});

afterAll(async () => {
  await handle.close();
});

async function rejection(promise: Promise<unknown>): Promise<DsmError> {
  try {
    await promise;
  } catch (err) {
    if (isDsmError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('HttpClient', () => {
  it('GETs JSON under a base path, with query and bearer token', async () => {
    const client = new HttpClient({ baseUrl: base, token: 'tkn' });
    expect(await client.get('/items/7', { query: { a: 1, b: true, c: undefined } })).toEqual({
      id: '7',
      query: { a: '1', b: 'true' },
      auth: 'Bearer tkn',
    });
  });

  it('POSTs JSON and reads the status of the full response', async () => {
    const client = new HttpClient({ baseUrl: base });
    const res = await client.request('POST', 'items', { json: { name: 'x' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ created: { name: 'x' } });
    expect(await client.post('/items', [1, 2])).toEqual({ created: [1, 2] });
  });

  it('sends and receives raw DAG-CBOR bytes', async () => {
    const client = new HttpClient({ baseUrl: base });
    expect(await client.postBytes('/objects', Uint8Array.from([1, 2, 255]))).toEqual({
      hex: '0102ff',
      type: DAG_CBOR,
    });
    expect(await client.getBytes('/objects/1')).toEqual(Uint8Array.from([0xa1, 0x61, 0x61, 0x01]));
  });

  it('rebuilds the server DsmError from the error body', async () => {
    const err = await rejection(new HttpClient({ baseUrl: base }).get('/rejected'));
    expect(err).toBeInstanceOf(DsmError);
    expect(err.toJSON()).toEqual({
      code: 'E_POLICY',
      message: 'policy forbids transfer',
      details: { condition: 'maxAmount', field: 'amount' },
    });
  });

  it('falls back to the status when the body is not a DSM error', async () => {
    const client = new HttpClient({ baseUrl: base });
    expect((await rejection(client.get('/plain-404'))).code).toBe('E_NOT_FOUND');
    const future = await rejection(client.get('/future-code'));
    expect(future.code).toBe('E_CONFLICT');
    expect(future.details).toEqual({ x: 1, remoteCode: 'E_FROM_THE_FUTURE' });
  });

  it('retries a 503 with backoff until it succeeds for idempotent requests, never a plain POST', async () => {
    const client = new HttpClient({ baseUrl: base, retries: 3, baseDelayMs: 5 });
    expect(await client.get('/flaky/get')).toEqual({ attempts: 3 });
    // A 503 leaves the outcome unknown: a POST without a key or `idempotent` is not sent again.
    expect((await rejection(client.post('/flaky/post', {}))).code).toBe('E_UNAVAILABLE');
    expect(await client.post('/flaky/post', {}, { idempotent: true })).toEqual({ attempts: 3 });
  });

  it('gives up after the configured retries with the last error', async () => {
    const client = new HttpClient({ baseUrl: base, retries: 1, baseDelayMs: 1 });
    const err = await rejection(client.get('/flaky/giveup'));
    expect(err).toMatchObject({ code: 'E_UNAVAILABLE', message: 'storage down (attempt 2)' });
    expect(hits.get('giveup')).toBe(2);
  });

  it('does not retry a 500', async () => {
    const err = await rejection(new HttpClient({ baseUrl: base, baseDelayMs: 1 }).get('/broken'));
    expect(err.code).toBe('E_INTERNAL');
    expect(hits.get('broken')).toBe(1);
  });

  it('times out an attempt as E_UNAVAILABLE and retries only idempotent requests', async () => {
    const client = new HttpClient({ baseUrl: base, timeoutMs: 100, baseDelayMs: 1 });
    expect(await client.get('/slow/get')).toEqual({ attempts: 2 });

    const err = await rejection(client.post('/slow/post', {}));
    expect(err.code).toBe('E_UNAVAILABLE');
    expect(err.message).toContain('no answer within 100 ms');
    expect(hits.get('slow-post')).toBe(1);
    expect(await client.post('/slow/post-idem', {}, { idempotent: true })).toEqual({ attempts: 2 });
  });

  it('honours Retry-After', async () => {
    const client = new HttpClient({ baseUrl: base, baseDelayMs: 1 });
    const started = Date.now();
    expect(await client.get('/retry-after')).toEqual({ attempts: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('reports an unreachable peer as E_UNAVAILABLE, retrying refused connections even for POST', async () => {
    const logger = createLogger({ service: 'gone', level: 'silent' });
    const { app } = createHttpApp({
      service: 'gone',
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
    });
    const gone = await serve(app, { port: 0, host: '127.0.0.1' });
    await gone.close();
    let calls = 0;
    const client = new HttpClient({
      baseUrl: gone.url,
      retries: 2,
      baseDelayMs: 1,
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    const err = await rejection(client.post('/x', {}));
    expect(err).toMatchObject({ code: 'E_UNAVAILABLE', details: { cause: 'ECONNREFUSED' } });
    expect(calls).toBe(3);
  });

  it('validates a response against a schema', async () => {
    const client = new HttpClient({ baseUrl: base });
    const Item = z.object({ id: z.string() });
    expect(await client.get('/items/9', { schema: Item })).toEqual({ id: '9' });
    const err = await rejection(client.get('/odd-shape', { schema: z.object({ count: z.number() }) }));
    expect(err).toMatchObject({ code: 'E_INTERNAL', details: { field: 'count' } });
  });

  it('reads empty, text and non-JSON bodies as asked', async () => {
    const client = new HttpClient({ baseUrl: base });
    expect(await client.get('/empty')).toBeUndefined();
    expect(await client.get('/not-json', { responseType: 'text' })).toBe('hello');
    expect((await rejection(client.get('/not-json'))).message).toContain('not JSON');
  });

  it('stops at once, without retrying, when the caller aborts during an attempt or a backoff', async () => {
    const client = new HttpClient({ baseUrl: base, retries: 5, baseDelayMs: 1 });
    const during = new AbortController();
    const slow = client.get('/slow/abort', { signal: during.signal });
    setTimeout(() => during.abort(new Error('caller gave up')), 50);
    await expect(slow).rejects.toThrow('caller gave up');

    const backoff = new AbortController();
    const started = Date.now();
    const busy = client.get('/busy', { signal: backoff.signal }); // 503 with Retry-After: 5
    setTimeout(() => backoff.abort(new Error('caller gave up again')), 100);
    await expect(busy).rejects.toThrow('caller gave up again');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(hits.get('busy')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the slow handler finish
    expect(hits.get('slow-abort')).toBe(1);
  });
});

describe('HttpClient with an idempotency key', () => {
  interface Seen {
    method: string;
    path: string;
    key: string | undefined;
    body: string;
  }
  const seen: Seen[] = [];
  let raw: Server;
  let rawBase: string;
  const attemptsOf = (path: string) => seen.filter((s) => s.path === path);

  // A bare node:http server, so the first attempt can fail the way a network does: a dropped socket.
  beforeAll(async () => {
    raw = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const path = req.url ?? '';
        const key = req.headers['idempotency-key'];
        seen.push({ method: req.method ?? '', path, key: typeof key === 'string' ? key : undefined, body });
        const n = attemptsOf(path).length;
        const reply = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        };
        if (path.startsWith('/drop/') && n === 1) req.socket.destroy();
        else if (path.startsWith('/unavailable/') && n === 1)
          reply(503, { error: { code: 'E_UNAVAILABLE' } });
        else if (path.startsWith('/unavailable/') && n === 2) reply(502, {});
        else if (path.startsWith('/slow/') && n === 1) setTimeout(() => reply(200, { attempt: n }), 300);
        else reply(200, { attempt: n });
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    rawBase = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    raw.closeAllConnections();
    await new Promise((resolve) => raw.close(resolve));
  });

  it('resends a POST whose connection was dropped, with the same key and the same body', async () => {
    const client = new HttpClient({ baseUrl: rawBase, baseDelayMs: 1 });
    const body = { token: 't', amount: '2500' };
    expect(await client.post('/drop/keyed', body, { idempotencyKey: 'k-1' })).toEqual({ attempt: 2 });
    const attempts = attemptsOf('/drop/keyed');
    expect(attempts).toHaveLength(2);
    expect(attempts.map((a) => a.key)).toEqual(['"k-1"', '"k-1"']);
    expect(attempts.map((a) => JSON.parse(a.body) as unknown)).toEqual([body, body]);
  });

  it('does not resend a dropped POST without a key: its outcome is unknown', async () => {
    const client = new HttpClient({ baseUrl: rawBase, baseDelayMs: 1 });
    const err = await rejection(client.post('/drop/bare', { amount: '1' }));
    expect(err.code).toBe('E_UNAVAILABLE');
    expect(attemptsOf('/drop/bare')).toHaveLength(1);
  });

  it('retries a keyed POST through 503 and 502 with the same key', async () => {
    const client = new HttpClient({ baseUrl: rawBase, retries: 3, baseDelayMs: 1 });
    expect(await client.post('/unavailable/keyed', { a: 1 }, { idempotencyKey: 'k-2' })).toEqual({
      attempt: 3,
    });
    const attempts = attemptsOf('/unavailable/keyed');
    expect(new Set(attempts.map((a) => `${a.key} ${a.body}`))).toEqual(new Set(['"k-2" {"a":1}']));
  });

  it('resends a keyed POST that timed out', async () => {
    const client = new HttpClient({ baseUrl: rawBase, timeoutMs: 100, baseDelayMs: 1 });
    expect(await client.post('/slow/keyed', {}, { idempotencyKey: 'k-3' })).toEqual({ attempt: 2 });
    expect(attemptsOf('/slow/keyed').map((a) => a.key)).toEqual(['"k-3"', '"k-3"']);
  });

  it('treats an Idempotency-Key header given as is the same way', async () => {
    const client = new HttpClient({ baseUrl: rawBase, baseDelayMs: 1 });
    const headers = { 'Idempotency-Key': '"own"' };
    expect(await client.post('/drop/header', {}, { headers })).toEqual({ attempt: 2 });
    expect(attemptsOf('/drop/header').map((a) => a.key)).toEqual(['"own"', '"own"']);
  });

  it('sends the key as an RFC 8941 string and refuses one that cannot be sent', async () => {
    const client = new HttpClient({ baseUrl: rawBase });
    await client.post('/escaped', {}, { idempotencyKey: 'a "b" \\ c' });
    expect(attemptsOf('/escaped')[0]?.key).toBe('"a \\"b\\" \\\\ c"');
    for (const key of ['', 'tab\there', 'ünïcode']) {
      const err = await rejection(client.post('/refused', {}, { idempotencyKey: key }));
      expect(err).toMatchObject({ code: 'E_BAD_REQUEST', details: { field: 'idempotencyKey' } });
    }
    expect(attemptsOf('/refused')).toHaveLength(0);
  });
});

describe('parseErrorBody', () => {
  it('accepts only the {error: {code}} shape', () => {
    expect(
      parseErrorBody('{"error":{"code":"E_FORK","message":"m","details":{"n":1}}}', 409)?.toJSON(),
    ).toEqual({
      code: 'E_FORK',
      message: 'm',
      details: { n: 1 },
    });
    expect(parseErrorBody('{"error":"nope"}', 400)).toBeUndefined();
    expect(parseErrorBody('<html>', 502)).toBeUndefined();
    expect(parseErrorBody('null', 500)).toBeUndefined();
  });
});
