import { afterEach, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { DsmError } from '@dsm/protocol';
import { createLogger } from './log.js';
import { DAG_CBOR, DAG_JSON } from './media.js';
import { createMetricsRegistry } from './metrics.js';
import { Readiness } from './readiness.js';
import {
  createHttpApp,
  jsonBody,
  rawBody,
  requestBytes,
  serve,
  requestLogLevel,
  toDsmError,
  type RequestLogOptions,
  type ServeOptions,
  type ServerHandle,
} from './http.js';

const handles: ServerHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close({ timeoutMs: 100 })));
});

async function start(
  options: {
    readiness?: Readiness;
    jsonLimit?: number;
    requestLog?: RequestLogOptions;
    serve?: Partial<ServeOptions>;
  } = {},
) {
  const { serve: serveOptions, ...appOptions } = options;
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const { app, router, readiness } = createHttpApp({ service: 'test', logger, registry, ...appOptions });
  router.get('/items/:id', async (req, res) => {
    await Promise.resolve();
    if (req.params.id === 'missing') throw new DsmError('E_NOT_FOUND', 'no such item', { id: 'missing' });
    if (req.params.id === 'forked') throw new DsmError('E_FORK', 'identity is forked');
    if (req.params.id === 'boom') throw new Error('db path /var/lib/secret-internals exploded');
    res.json({ id: req.params.id });
  });
  router.post('/echo', (req, res) => {
    res.json({ body: req.body as unknown });
  });
  router.post('/json', (req, res) => {
    const body = jsonBody(req);
    res.json({ sent: body !== undefined, body: body ?? null });
  });
  router.get('/slow', async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    res.json({ finished: true });
  });
  router.get('/credentials', (req, res) => {
    res.json({ token: req.query.token as unknown, header: req.get('x-auth-token') ?? null });
  });
  router.post('/objects', rawBody({ limit: 16 }), (req, res) => {
    const bytes = requestBytes(req);
    res.json({ length: bytes.length, hex: bytes.toString('hex'), json: req.is(DAG_JSON) === DAG_JSON });
  });
  router.get('/v1/admin/config', (_req, res) => {
    res.json({ logLevel: 'info' });
  });
  router.post('/forgot-raw', (req, res) => {
    res.json({ length: requestBytes(req).length });
  });
  const handle = await serve(app, { port: 0, host: '127.0.0.1', ...serveOptions });
  handles.push(handle);
  return { url: handle.url, handle, lines, readiness, registry };
}

/**
 * Writes `chunks` to a raw connection (each after `gapMs`) and reads until the server closes it;
 * for what fetch cannot send. `status` is 0 when nothing came back.
 */
async function rawExchange(port: number, chunks: (string | Buffer)[], gapMs = 0) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // a reset shows as an empty answer
  let text = '';
  socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  await closed;
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  let body: unknown = rest.join('\r\n\r\n');
  try {
    body = JSON.parse(body as string);
  } catch {
    // not one JSON document (nothing, or several responses): left as text
  }
  return { text, status: Number(statusLine.split(' ')[1] ?? 0), headers, body };
}

async function call(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

describe('probes', () => {
  it('/healthz answers while the process lives', async () => {
    const { url } = await start();
    expect(await call(`${url}/healthz`)).toMatchObject({ status: 200, body: { status: 'alive' } });
  });

  it('/readyz runs the checks and names the failing ones', async () => {
    let dbUp = true;
    const { url, readiness } = await start({ readiness: new Readiness(100) });
    readiness.add('db', () => {
      if (!dbUp) throw new Error('closed');
    });
    readiness.add('peers', async () => true);
    expect(await call(`${url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });

    dbUp = false;
    readiness.add('slow', () => new Promise(() => undefined));
    readiness.add('flag', () => false);
    const res = await call(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: {
        code: 'E_UNAVAILABLE',
        message: 'not ready: db (closed), slow (timed out after 100 ms), flag (reported not ready)',
        details: { failed: ['db', 'slow', 'flag'] },
      },
    });
    expect(() => readiness.add('db', () => undefined)).toThrow(/already registered/);
  });

  it('/readyz fails once shutting down', async () => {
    const { url, readiness } = await start();
    readiness.shuttingDown();
    expect(await call(`${url}/readyz`)).toMatchObject({
      status: 503,
      body: { error: { code: 'E_UNAVAILABLE', details: { failed: ['shutdown'] } } },
    });
  });

  it('/metrics exposes request durations by route template', async () => {
    const { url } = await start();
    await call(`${url}/items/abc`);
    await call(`${url}/items/missing`);
    await call(`${url}/nowhere/at/all`);
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain(
      'dsm_http_request_duration_seconds_count{service="test",method="GET",route="/items/:id",status="200"} 1',
    );
    expect(text).toContain(
      'dsm_http_request_duration_seconds_count{service="test",method="GET",route="/items/:id",status="404"} 1',
    );
    expect(text).toContain('route="unmatched",status="404"');
    expect(text).not.toContain('/items/abc');
  });
});

describe('errors', () => {
  it('maps DsmError codes to statuses with the error body', async () => {
    const { url } = await start();
    expect(await call(`${url}/items/missing`)).toMatchObject({
      status: 404,
      body: { error: { code: 'E_NOT_FOUND', message: 'no such item', details: { id: 'missing' } } },
    });
    expect(await call(`${url}/items/forked`)).toMatchObject({
      status: 409,
      body: { error: { code: 'E_FORK' } },
    });
  });

  it('hides unexpected errors from the client but logs them with the request id', async () => {
    const { url, lines } = await start();
    const res = await call(`${url}/items/boom`);
    expect(res.status).toBe(500);
    const requestId = res.headers.get('x-request-id');
    expect(res.body).toEqual({
      error: { code: 'E_INTERNAL', message: `internal error (request ${requestId})`, details: { requestId } },
    });
    const logged = lines.find((l) => (l.req as { id?: string } | undefined)?.id === requestId);
    expect(logged).toMatchObject({
      level: 'error',
      err: { message: 'db path /var/lib/secret-internals exploded' },
    });
  });

  it('turns body-parser failures into the same shape', async () => {
    const { url } = await start({ jsonLimit: 64 });
    const json = { 'content-type': 'application/json' };
    expect(await call(`${url}/echo`, { method: 'POST', headers: json, body: '{"a":' })).toMatchObject({
      status: 400,
      body: { error: { code: 'E_BAD_REQUEST' } },
    });
    expect(
      await call(`${url}/echo`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ a: 'x'.repeat(100) }),
      }),
    ).toMatchObject({ status: 413, body: { error: { code: 'E_TOO_LARGE', details: { limit: 64 } } } });
    expect(
      await call(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=latin-9' },
        body: '{}',
      }),
    ).toMatchObject({ status: 415, body: { error: { code: 'E_UNSUPPORTED_MEDIA_TYPE' } } });
    expect(await call(`${url}/echo`, { method: 'POST', headers: json, body: '{"a":1}' })).toMatchObject({
      status: 200,
      body: { body: { a: 1 } },
    });
  });

  it('answers unknown routes with E_NOT_FOUND', async () => {
    const { url } = await start();
    expect(await call(`${url}/no/such/route`, { method: 'DELETE' })).toEqual({
      status: 404,
      headers: expect.anything(),
      body: {
        error: {
          code: 'E_NOT_FOUND',
          message: 'no route for DELETE /no/such/route',
          details: { method: 'DELETE', path: '/no/such/route' },
        },
      },
    });
  });

  it('keeps exposed 4xx http errors and hides the rest', () => {
    expect(toDsmError(Object.assign(new Error('bad range'), { status: 416, expose: true })).code).toBe(
      'E_BAD_REQUEST',
    );
    expect(toDsmError(Object.assign(new Error('x'), { status: 503 }))).toMatchObject({
      code: 'E_INTERNAL',
      message: 'internal error',
    });
    expect(toDsmError('a string')).toMatchObject({ code: 'E_INTERNAL' });
  });
});

describe('JSON bodies', () => {
  it('refuses a body of any other type before the route runs', async () => {
    const { url, handle } = await start();
    const sent = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'application/json-seq' },
      {},
    ];
    for (const headers of sent) {
      const res = await call(`${url}/echo`, { method: 'POST', headers, body: Buffer.from('{"a":1}') });
      expect([headers, res]).toMatchObject([
        headers,
        {
          status: 415,
          body: {
            error: {
              code: 'E_UNSUPPORTED_MEDIA_TYPE',
              details: { expected: ['application/json', DAG_CBOR, DAG_JSON] },
            },
          },
        },
      ]);
    }
    // Chunked, so no content-length says a body is coming.
    const chunked = await rawExchange(handle.port, [
      'POST /echo HTTP/1.1\r\nhost: a\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n',
      '3\r\nabc\r\n0\r\n\r\n',
    ]);
    expect(chunked).toMatchObject({ status: 415, body: { error: { code: 'E_UNSUPPORTED_MEDIA_TYPE' } } });
  });

  it('lets bodiless requests and JSON with a charset through', async () => {
    const { url } = await start();
    expect(await call(`${url}/json`, { method: 'POST' })).toMatchObject({
      status: 200,
      body: { sent: false, body: null },
    });
    expect(
      await call(`${url}/json`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '' }),
    ).toMatchObject({ status: 200, body: { sent: false } });
    expect(
      await call(`${url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: '{"a":1}',
      }),
    ).toMatchObject({ status: 200, body: { sent: true, body: { a: 1 } } });
  });

  it('jsonBody refuses a DAG body, and JSON that is not an object', async () => {
    const { url } = await start();
    expect(
      await call(`${url}/json`, {
        method: 'POST',
        headers: { 'content-type': DAG_CBOR },
        body: Buffer.from([0xa0]),
      }),
    ).toMatchObject({
      status: 415,
      body: { error: { code: 'E_UNSUPPORTED_MEDIA_TYPE', details: { expected: ['application/json'] } } },
    });
    for (const body of ['[]', '[{"a":1}]', '"x"', '1', 'null', 'true']) {
      const res = await call(`${url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect([body, res]).toMatchObject([body, { status: 400, body: { error: { code: 'E_BAD_REQUEST' } } }]);
    }
    expect(
      await call(`${url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[]',
      }),
    ).toMatchObject({
      body: { error: { message: 'body: JSON object expected', details: { field: 'body' } } },
    });
  });
});

describe('rawBody', () => {
  it('hands the exact DAG-CBOR or DAG-JSON bytes to the route', async () => {
    const { url } = await start();
    const bytes = Uint8Array.from([0xa1, 0x61, 0x61, 0x01]);
    expect(
      await call(`${url}/objects`, { method: 'POST', headers: { 'content-type': DAG_CBOR }, body: bytes }),
    ).toEqual({
      status: 200,
      headers: expect.anything(),
      body: { length: 4, hex: 'a1616101', json: false },
    });
    expect(
      await call(`${url}/objects`, {
        method: 'POST',
        headers: { 'content-type': DAG_JSON },
        body: '{"a":1}',
      }),
    ).toMatchObject({
      body: { length: 7, json: true },
    });
  });

  it('refuses other media types, oversized and missing bodies', async () => {
    const { url } = await start();
    expect(
      await call(`${url}/objects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    ).toMatchObject({
      status: 415,
      body: { error: { code: 'E_UNSUPPORTED_MEDIA_TYPE', details: { expected: [DAG_CBOR, DAG_JSON] } } },
    });
    expect(
      await call(`${url}/objects`, {
        method: 'POST',
        headers: { 'content-type': DAG_CBOR },
        body: new Uint8Array(17),
      }),
    ).toMatchObject({ status: 413, body: { error: { code: 'E_TOO_LARGE' } } });
    expect(
      await call(`${url}/objects`, {
        method: 'POST',
        headers: { 'content-type': DAG_CBOR },
        body: new Uint8Array(16),
      }),
    ).toMatchObject({ status: 200, body: { length: 16 } });
    for (const headers of [{}, { 'content-type': DAG_CBOR }]) {
      expect(await call(`${url}/objects`, { method: 'POST', headers })).toMatchObject({
        status: 400,
        body: {
          error: {
            code: 'E_BAD_REQUEST',
            message: expect.stringContaining('body required') as unknown as string,
          },
        },
      });
    }
  });

  it('fails loudly when a route reads bytes without the middleware', async () => {
    const { url } = await start();
    expect(
      await call(`${url}/forgot-raw`, {
        method: 'POST',
        headers: { 'content-type': DAG_CBOR },
        body: new Uint8Array(2),
      }),
    ).toMatchObject({ status: 500, body: { error: { code: 'E_INTERNAL' } } });
  });
});

describe('request logs', () => {
  it('propagate a sane x-request-id and never contain the authorization header', async () => {
    const { url, lines } = await start();
    const res = await fetch(`${url}/items/a`, {
      headers: { 'x-request-id': 'req-42', authorization: 'Bearer sup3r' },
    });
    expect(res.headers.get('x-request-id')).toBe('req-42');
    const evil = await fetch(`${url}/items/a`, {
      headers: { 'x-request-id': '"forged": 1, "level": "fatal"' },
    });
    expect(evil.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(lines)).not.toContain('sup3r');
    expect(lines.find((l) => (l.req as { id?: string } | undefined)?.id === 'req-42')).toMatchObject({
      level: 'info',
      req: { headers: { authorization: '[redacted]' } },
      res: { statusCode: 200 },
    });
  });

  it('never contain credentials sent in query strings or non-standard headers', async () => {
    const { url, lines } = await start();
    const query =
      '?token=sec-q1&limit=5&access_token=sec-q2&api_key=sec-q3&%74oken=sec-q4&token[]=sec-q5&TOKEN=sec-q6&tokenId=USD';
    const headers = {
      'x-request-id': 'creds',
      'x-auth-token': 'sec-h1',
      'x-dsm-token': 'sec-h2',
      'x-admin-token': 'sec-h3',
      'x-api-key': 'sec-h4',
      'x-session-secret': 'sec-h5',
      cookie: 'sid=sec-h6',
      'proxy-authorization': 'Basic sec-h7',
      accept: 'application/json',
    };
    // The route still sees what was sent: only the log line is rewritten.
    expect(await call(`${url}/credentials${query}`, { headers })).toMatchObject({
      status: 200,
      body: {
        token: ['sec-q1', 'sec-q4'],
        header: 'sec-h1',
      },
    });
    await call(`${url}/no/such/route${query}`, { headers: { ...headers, 'x-request-id': 'creds-404' } });

    expect(JSON.stringify(lines)).not.toMatch(/sec-[qh]\d/);
    const redactedQuery =
      '?token=[redacted]&limit=5&access_token=[redacted]&api_key=[redacted]&%74oken=[redacted]&token[]=[redacted]&TOKEN=[redacted]&tokenId=USD';
    const line = lines.find((l) => (l.req as { id?: string } | undefined)?.id === 'creds');
    expect(line).toMatchObject({
      req: {
        url: `/credentials${redactedQuery}`,
        query: { token: '[redacted]', limit: '5', tokenId: 'USD' },
        headers: { 'x-auth-token': '[redacted]', 'x-dsm-token': '[redacted]', accept: 'application/json' },
      },
    });
    expect(lines.find((l) => (l.req as { id?: string } | undefined)?.id === 'creds-404')).toMatchObject({
      req: { url: `/no/such/route${redactedQuery}` },
    });
  });

  it('write successful probes and /metrics at debug only, failing ones always', async () => {
    const { url, lines, readiness } = await start();
    await call(`${url}/healthz`);
    await call(`${url}/readyz`);
    await fetch(`${url}/metrics`).then((r) => r.text());
    expect(lines.map((l) => [l.level, (l.req as { url: string }).url])).toEqual([
      ['debug', '/healthz'],
      ['debug', '/readyz'],
      ['debug', '/metrics'],
    ]);
    readiness.shuttingDown();
    await call(`${url}/readyz`);
    await call(`${url}/readyz`);
    expect(lines.slice(3).map((l) => [l.level, (l.res as { statusCode: number }).statusCode])).toEqual([
      ['warn', 503],
      ['warn', 503],
    ]);
  });
});

describe('request log sampling', () => {
  const summary = (lines: Record<string, unknown>[]) =>
    lines.map((l) => ({
      level: l.level,
      url: (l.req as { url: string }).url,
      status: (l.res as { statusCode: number }).statusCode,
      ...(l.skipped === undefined ? {} : { skipped: l.skipped }),
    }));

  it('write a hot route at info once per window, its other successes at debug, per route', async () => {
    const { url, lines } = await start({ requestLog: { sampleMs: 60_000, slowMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await call(`${url}/items/a${i}`)).status).toBe(200);
    await call(`${url}/echo`, { method: 'POST' });
    await call(`${url}/echo`, { method: 'POST' });
    expect(summary(lines)).toEqual([
      { level: 'info', url: '/items/a0', status: 200 },
      { level: 'debug', url: '/items/a1', status: 200 },
      { level: 'debug', url: '/items/a2', status: 200 },
      { level: 'info', url: '/echo', status: 200 },
      { level: 'debug', url: '/echo', status: 200 },
    ]);
    // The same fields as every request line.
    expect(lines[1]).toMatchObject({
      msg: 'request completed',
      service: 'test',
      req: { method: 'GET', headers: expect.any(Object) as object },
      res: { statusCode: 200, headers: expect.any(Object) as object },
      responseTime: expect.any(Number) as unknown as number,
    });
  });

  it("count the skipped requests in the route's next info line", async () => {
    const { url, lines } = await start({ requestLog: { sampleMs: 1_000, slowMs: 60_000 } });
    await Promise.all([0, 1, 2].map((i) => call(`${url}/items/b${i}`)));
    await new Promise((r) => setTimeout(r, 1_100));
    await call(`${url}/items/b3`);
    expect(summary(lines).filter((l) => l.level === 'info')).toEqual([
      { level: 'info', url: expect.stringMatching(/^\/items\/b[012]$/) as unknown as string, status: 200 },
      { level: 'info', url: '/items/b3', status: 200, skipped: 2 },
    ]);
  });

  it('always write errors, 4xx, slow requests and the admin API', async () => {
    const { url, lines } = await start({ requestLog: { sampleMs: 60_000, slowMs: 200 } });
    await call(`${url}/items/a`);
    for (let i = 0; i < 2; i++) {
      await call(`${url}/items/boom`);
      await call(`${url}/items/missing`);
      await call(`${url}/items/forked`);
      await call(`${url}/v1/admin/config`);
    }
    await Promise.all([call(`${url}/slow`), call(`${url}/slow`)]);
    expect(summary(lines)).toEqual([
      { level: 'info', url: '/items/a', status: 200 },
      ...[0, 1].flatMap(() => [
        { level: 'error', url: '/items/boom', status: 500 },
        { level: 'info', url: '/items/missing', status: 404 },
        { level: 'info', url: '/items/forked', status: 409 },
        { level: 'info', url: '/v1/admin/config', status: 200 },
      ]),
      { level: 'info', url: '/slow', status: 200 },
      { level: 'info', url: '/slow', status: 200 },
    ]);
    const slow = lines.filter((l) => (l.req as { url: string }).url === '/slow');
    expect(slow.every((l) => (l.responseTime as number) >= 200)).toBe(true);
  });

  it('write nothing for sampled-out requests at the default info level', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: 't',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const { app, router } = createHttpApp({
      service: 't',
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
      requestLog: { sampleMs: 60_000, slowMs: 60_000 },
    });
    router.get('/v1/identities/:id/head', (_req, res) => void res.json({ height: 1 }));
    const handle = await serve(app, { port: 0, host: '127.0.0.1' });
    handles.push(handle);
    for (let i = 0; i < 50; i++) await call(`${handle.url}/v1/identities/i${i}/head`);
    await call(`${handle.url}/healthz`);
    expect(lines).toHaveLength(1);
  });

  it('write aborted requests whatever their route', () => {
    const facts = (writableEnded: boolean) => ({
      req: { method: 'GET', originalUrl: '/items/a', baseUrl: '', route: { path: '/items/:id' } } as never,
      res: { statusCode: 200, writableEnded } as never,
      failed: false,
      ms: 1,
      slowMs: 500,
      sample: () => null,
    });
    expect(requestLogLevel(facts(false))).toEqual({ level: 'info' });
    expect(requestLogLevel(facts(true))).toEqual({ level: 'debug' });
  });
});

describe('requests that never reach express', () => {
  const expectJsonError = (
    res: Awaited<ReturnType<typeof rawExchange>>,
    status: number,
    code: string,
    reason: string,
  ) => {
    expect(res).toMatchObject({
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close' },
      body: { error: { code, message: expect.any(String) as unknown as string, details: { reason } } },
    });
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text.split('\r\n\r\n')[1]!)));
  };

  it('answer parser errors with a JSON body and close the connection', async () => {
    const { handle } = await start();
    expectJsonError(
      await rawExchange(handle.port, ['FOO / HTTP/1.1\r\nhost: a\r\n\r\n']),
      400,
      'E_BAD_REQUEST',
      'HPE_INVALID_METHOD',
    );
    expectJsonError(
      await rawExchange(handle.port, ['GET /a b HTTP/1.1\r\nhost: a\r\n\r\n']),
      400,
      'E_BAD_REQUEST',
      'HPE_INVALID_CONSTANT',
    );
    expectJsonError(
      await rawExchange(handle.port, ['GET / HTTP/1.1\r\nno colon here\r\n\r\n']),
      400,
      'E_BAD_REQUEST',
      'HPE_INVALID_HEADER_TOKEN',
    );
    expectJsonError(
      await rawExchange(handle.port, [`GET / HTTP/1.1\r\nhost: a\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`]),
      431,
      'E_TOO_LARGE',
      'HPE_HEADER_OVERFLOW',
    );
    // The request was dispatched and express.json is reading its body when the chunk framing breaks.
    expectJsonError(
      await rawExchange(handle.port, [
        'POST /echo HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      ]),
      400,
      'E_BAD_REQUEST',
      'HPE_INVALID_CHUNK_SIZE',
    );
  });

  it('leave methods the parser knows to express', async () => {
    const { handle } = await start();
    expect(
      await rawExchange(handle.port, ['PROPFIND /x HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n']),
    ).toMatchObject({ status: 404, body: { error: { code: 'E_NOT_FOUND' } } });
  });

  it('answer after an earlier keep-alive exchange, never ahead of a pending answer', async () => {
    const { handle } = await start();
    const afterFirst = await rawExchange(
      handle.port,
      ['GET /items/a HTTP/1.1\r\nhost: a\r\n\r\n', 'FOO / HTTP/1.1\r\nhost: a\r\n\r\n'],
      100,
    );
    expect(afterFirst.text).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\{"id":"a"\}HTTP\/1\.1 400 Bad Request\r\n/,
    );
    // Pipelined behind a request still being answered: a 400 now would read as /slow's answer.
    const pipelined = await rawExchange(handle.port, [
      'GET /slow HTTP/1.1\r\nhost: a\r\n\r\nFOO / HTTP/1.1\r\nhost: a\r\n\r\n',
    ]);
    expect(pipelined.text).not.toContain('400 Bad Request');
  });

  it('answer 408 when a declared body or the headers do not arrive in time', async () => {
    const { handle } = await start({ serve: { requestTimeoutMs: 300, headersTimeoutMs: 200 } });

    const started = Date.now();
    const body = await rawExchange(handle.port, [
      'POST /echo HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n',
      '{"a":"0123',
    ]);
    expectJsonError(body, 408, 'E_BAD_REQUEST', 'ERR_HTTP_REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
    expectJsonError(
      await rawExchange(handle.port, ['GET /items/a HTTP/1.1\r\nhost: a\r\n']),
      408,
      'E_BAD_REQUEST',
      'ERR_HTTP_REQUEST_TIMEOUT',
    );
  });

  it('do not cut a request whose answer takes longer than the request timeout', async () => {
    const { url } = await start({ serve: { requestTimeoutMs: 100 } });
    expect(await call(`${url}/slow`)).toMatchObject({ status: 200, body: { finished: true } });
  });
});

describe('serve', () => {
  it('close() stops accepting, lets in-flight requests finish, then resolves', async () => {
    const logger = createLogger({ service: 't', level: 'silent' });
    const { app, router } = createHttpApp({
      service: 't',
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
    });
    let release: () => void = () => undefined;
    let arrived: () => void = () => undefined;
    const hasArrived = new Promise<void>((resolve) => (arrived = resolve));
    router.get('/slow', async (_req, res) => {
      arrived();
      await new Promise<void>((resolve) => (release = resolve));
      res.json({ finished: true });
    });
    const handle = await serve(app, { port: 0, host: '127.0.0.1' });
    await call(`${handle.url}/healthz`); // leaves an idle keep-alive connection in fetch's pool

    const slow = call(`${handle.url}/slow`);
    await hasArrived;
    let closed = false;
    const closing = handle.close().then(() => (closed = true));
    await expect(fetch(`${handle.url}/healthz`)).rejects.toThrow();
    expect(closed).toBe(false);

    release();
    expect(await slow).toMatchObject({ status: 200, body: { finished: true } });
    await closing;
    expect(closed).toBe(true);
  });

  it('close() does not wait for connections that never sent a request', async () => {
    const { handle } = await start();
    const socket = connect(handle.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const ended = new Promise((resolve) => socket.once('end', resolve));
    const started = Date.now();
    await handle.close({ timeoutMs: 5000 });
    expect(Date.now() - started).toBeLessThan(1000);
    await ended;
    socket.destroy();
  });

  it('close() cuts connections still busy after the deadline', async () => {
    const logger = createLogger({ service: 't', level: 'silent' });
    const { app, router } = createHttpApp({
      service: 't',
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
    });
    router.get('/hang', () => undefined);
    const handle = await serve(app, { port: 0, host: '127.0.0.1' });
    const hung = fetch(`${handle.url}/hang`).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await handle.close({ timeoutMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(await hung).toBe('cut');
  });

  it('reports the port it bound and refuses a port in use', async () => {
    const { handle } = await start();
    expect(handle.port).toBeGreaterThan(0);
    expect(handle.url).toBe(`http://127.0.0.1:${handle.port}`);
    const logger = createLogger({ service: 't', level: 'silent' });
    const { app } = createHttpApp({
      service: 't',
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
    });
    await expect(serve(app, { port: handle.port, host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
  });
});
