import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { key } from './keys.js';
import { GracefulShutdown } from './shutdown.js';
import { Store } from './store.js';

describe('GracefulShutdown', () => {
  it('runs closers once, in reverse order, then exits 0', async () => {
    const order: string[] = [];
    const exit = jest.fn<(code: number) => void>();
    const shutdown = new GracefulShutdown({ exit });
    shutdown.register('db', () => void order.push('db'));
    shutdown.register('flush', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      order.push('flush');
    });
    shutdown.register('http', () => void order.push('http'));

    const [first, second] = await Promise.all([shutdown.run('test'), shutdown.run('again')]);
    expect([first, second]).toEqual([0, 0]);
    expect(order).toEqual(['http', 'flush', 'db']);
    expect(exit.mock.calls).toEqual([[0]]);
    expect(() => shutdown.register('late', () => undefined)).toThrow(/already started/);
  });

  it('keeps closing after a closer fails, and exits 1', async () => {
    const order: string[] = [];
    const exit = jest.fn<(code: number) => void>();
    const shutdown = new GracefulShutdown({ exit });
    shutdown.register('db', () => void order.push('db'));
    shutdown.register('broken', () => {
      throw new Error('flush failed');
    });
    expect(await shutdown.run('test')).toBe(1);
    expect(order).toEqual(['db']);
    expect(exit.mock.calls).toEqual([[1]]);
  });

  it('exits 1 when closers outlast the deadline', async () => {
    const exit = jest.fn<(code: number) => void>();
    const shutdown = new GracefulShutdown({ exit, timeoutMs: 50 });
    const reached = jest.fn();
    shutdown.register('db', reached);
    shutdown.register('stuck', () => new Promise(() => undefined));
    expect(await shutdown.run('test')).toBe(1);
    expect(reached).not.toHaveBeenCalled();
  });

  it('starts on a signal and forces exit on the second', async () => {
    const exit = jest.fn<(code: number) => void>();
    let unblock: () => void = () => undefined;
    const shutdown = new GracefulShutdown({ exit, signals: ['SIGUSR2'] }).listen();
    try {
      shutdown.register('slow', () => new Promise<void>((resolve) => (unblock = resolve)));
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(shutdown.started).toBe(true);
      expect(exit).not.toHaveBeenCalled();
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(exit.mock.calls).toEqual([[1]]);
      unblock();
    } finally {
      shutdown.unlisten();
    }
  });
});

// A real service process: SIGTERM while a request is in flight.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const NODE = join(root, 'node_modules/.bin/node');
const FIXTURE = join(root, 'workloads/runtime/test/fixtures/shutdown-child.mjs');

interface Child {
  process: ChildProcess;
  lines: Record<string, unknown>[];
  waitFor(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function startChild(dataDir: string, args: string[] = [], env: Record<string, string> = {}): Child {
  const child = spawn(NODE, [FIXTURE, dataDir, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.msg === line.msg)) waiter.resolve(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    lines,
    exited,
    waitFor(msg, timeoutMs = 10_000) {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child never logged "${msg}"`)), timeoutMs);
        waiters.push({
          msg,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}

describe('graceful shutdown of a real process', () => {
  let dir: string;
  let child: Child | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dsm-shutdown-'));
  });
  afterEach(async () => {
    if (child && child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    child = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('on SIGTERM refuses new connections, finishes the in-flight request, closes the store and exits 0', async () => {
    child = startChild(join(dir, 'db'));
    const { port } = (await child.waitFor('listening')) as { port: number };
    const url = `http://127.0.0.1:${port}`;

    const inFlight = fetch(`${url}/slow?ms=700`, { method: 'POST' });
    await child.waitFor('slow request started');
    child.process.kill('SIGTERM');
    await child.waitFor('shutting down');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    expect(await child.exited).toBe(0);
    expect(child.lines.find((l) => l.msg === 'shutdown complete')).toMatchObject({ failed: false });

    // The store was closed cleanly (its lock released) and kept the request's write.
    const store = await Store.open(join(dir, 'db'));
    try {
      expect((await store.get(key('slow')))?.toString()).toBe('finished');
    } finally {
      await store.close();
    }
  });

  it('exits 1 at the deadline when a closer hangs', async () => {
    child = startChild(join(dir, 'db'), ['hang'], { DEADLINE_MS: '300' });
    await child.waitFor('listening');
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(1);
    expect(child.lines.find((l) => l.msg === 'shutdown deadline passed')).toMatchObject({ closing: 'hang' });
  });

  it('exits at once on a second signal', async () => {
    child = startChild(join(dir, 'db'), ['hang'], { DEADLINE_MS: '60000' });
    await child.waitFor('listening');
    child.process.kill('SIGTERM');
    await child.waitFor('shutting down');
    const started = Date.now();
    child.process.kill('SIGINT');
    expect(await child.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(child.lines.find((l) => l.msg === 'second signal: exiting without finishing')).toMatchObject({
      signal: 'SIGINT',
    });
  });
});
