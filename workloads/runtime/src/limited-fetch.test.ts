import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { isDsmError } from '@dsm/protocol';
import { HttpClient } from './client.js';
import { limitedFetch } from './limited-fetch.js';

describe('limitedFetch', () => {
  let server: Server;
  let base: string;
  let closed = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.on('close', () => closed++);
      const size = Number(new URL(req.url!, 'http://x').searchParams.get('size'));
      if (req.url!.startsWith('/declared')) {
        res.writeHead(200, { 'content-length': String(size) });
        res.end(Buffer.alloc(size));
      } else if (req.url!.startsWith('/empty')) {
        res.writeHead(204).end();
      } else {
        // Chunked, no length: only the bytes read can tell.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024)), 1);
        res.on('close', () => clearInterval(timer));
        if (size > 0) setTimeout(() => res.end(), 5);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('passes bodies up to the limit', async () => {
    const res = await limitedFetch(1000)(`${base}/declared?size=1000`);
    expect((await res.arrayBuffer()).byteLength).toBe(1000);
    expect((await limitedFetch(10)(`${base}/empty`)).status).toBe(204);
  });

  it('refuses a declared length over the limit before reading', async () => {
    await expect(limitedFetch(999)(`${base}/declared?size=1000`)).rejects.toMatchObject({
      code: 'E_TOO_LARGE',
    });
  });

  it('cuts an endless body at the limit and drops the connection', async () => {
    const before = closed;
    const res = await limitedFetch(64 * 1024)(`${base}/endless`);
    await expect(res.arrayBuffer()).rejects.toMatchObject({ code: 'E_TOO_LARGE' });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(before + 1);
  });

  it('reaches HttpClient callers as a DsmError, not retried', async () => {
    let calls = 0;
    const limited = limitedFetch(64 * 1024);
    const client = new HttpClient({
      baseUrl: base,
      retries: 3,
      fetch: (input, init) => {
        calls++;
        return limited(input, init);
      },
    });
    const error = await client.getBytes('/endless').catch((e: unknown) => e);
    expect(isDsmError(error, 'E_TOO_LARGE')).toBe(true);
    expect(calls).toBe(1);
  });
});
