/**
 * A stand-in for the core's client API in the CLI's unit tests: a real node:http server on 127.0.0.1 that
 * records every request (its Idempotency-Key included) and plays scripted answers per route.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '../src/program.js';

export interface Recorded {
  method: string;
  path: string;
  key: string | undefined;
  body: unknown;
}

export type Answer = [status: number, body: unknown];

export class FakeCore {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, Answer[]>();
  private readonly server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0]!;
        const key = req.headers['idempotency-key'];
        this.requests.push({
          method: req.method ?? '',
          path,
          key: typeof key === 'string' ? key : undefined,
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
        });
        // Answers are played in order; the last one repeats.
        const answers = this.routes.get(`${req.method} ${path}`);
        const [status, body] =
          answers === undefined
            ? [404, { error: { code: 'E_NOT_FOUND', message: `no route ${path}`, details: {} } }]
            : answers.length > 1
              ? answers.shift()!
              : answers[0]!;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
  }

  on(method: string, path: string, ...answers: Answer[]): this {
    this.routes.set(`${method} ${path}`, answers);
    return this;
  }

  /** The requests made to one route, in order. */
  to(method: string, path: string): Recorded[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  reset(): void {
    this.requests.length = 0;
    this.routes.clear();
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export const UNAVAILABLE: Answer = [
  503,
  { error: { code: 'E_UNAVAILABLE', message: 'storage quorum not reached', details: {} } },
];

/** Runs `dsm ...args` in-process against `url`. */
export async function dsmAt(
  url: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(['node', 'dsm', '--url', url, ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}
