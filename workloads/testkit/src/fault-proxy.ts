/**
 * An HTTP proxy in front of one of our services or an EVM node, failing on purpose: `down` drops every
 * connection, `delayMs` answers late, `dropRequest` cuts the connection of a request without forwarding it
 * (lost on the way: the upstream never hears of it), `dropAnswer` forwards a request and then cuts the
 * connection (the upstream acted, the caller never hears), and `rewrite` changes a JSON answer (a lying node).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { freePort } from './storage.js';
import { sleep } from './process.js';

export interface ProxiedRequest {
  method: string;
  path: string;
  body: Buffer;
  /** The body parsed as JSON, when it is JSON (a JSON-RPC call: `{method, params}`). */
  json?: unknown;
}

export class FaultProxy {
  down = false;
  delayMs = 0;
  dropRequest: ((req: ProxiedRequest) => boolean) | undefined;
  dropAnswer: ((req: ProxiedRequest) => boolean) | undefined;
  rewrite: ((req: ProxiedRequest, answer: unknown) => unknown) | undefined;
  /** Requests forwarded, in order. */
  readonly seen: ProxiedRequest[] = [];
  port = 0;
  private server?: Server;

  constructor(private readonly target: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `host:port`, for settings that take one. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void this.forward(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks))
          .then((answer) => {
            if (!answer) return void req.socket.destroy();
            res.writeHead(answer.status, { 'content-type': answer.type });
            res.end(answer.body);
          })
          .catch(() => req.socket.destroy());
      });
    });
    this.port ||= await freePort();
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
    return this;
  }

  private async forward(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer) {
    if (this.down) return undefined;
    const request: ProxiedRequest = { method, path, body };
    if (String(headers['content-type'] ?? '').includes('json') && body.length > 0) {
      try {
        request.json = JSON.parse(body.toString('utf8'));
      } catch {
        // not JSON after all
      }
    }
    this.seen.push(request);
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.down || this.dropRequest?.(request)) return undefined;
    const forwarded: Record<string, string> = {};
    for (const name of ['content-type', 'accept', 'authorization', 'idempotency-key']) {
      const value = headers[name];
      if (typeof value === 'string') forwarded[name] = value;
    }
    const upstream = await fetch(new URL(path, this.target), {
      method,
      headers: forwarded,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    });
    let answer = Buffer.from(await upstream.arrayBuffer());
    if (this.dropAnswer?.(request)) return undefined;
    const type = upstream.headers.get('content-type') ?? 'application/octet-stream';
    const rewrite = this.rewrite;
    if (rewrite && type.includes('json')) {
      answer = Buffer.from(JSON.stringify(rewrite(request, JSON.parse(answer.toString('utf8')))));
    }
    return { status: upstream.status, type, body: answer };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
