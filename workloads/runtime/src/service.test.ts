import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { createHttpApp, serve, type ServerHandle } from './http.js';
import { createMetricsRegistry } from './metrics.js';
import { adminConfigRoutes, adminGuard } from './service.js';
import { logLevelSchema } from './log.js';
import { setting } from './settings.js';

const schema = z.object({
  name: setting(z.string(), { env: 'T_NAME', default: 'n', description: 'fixed at start' }),
  cacheSize: setting(z.number().int().min(0).max(100), {
    env: 'T_CACHE',
    default: 10,
    runtime: true,
    description: 'entries kept',
  }),
  logLevel: setting(logLevelSchema, {
    env: 'T_LOG',
    default: 'info',
    runtime: true,
    description: 'log level',
  }),
});

describe('the service skeleton', () => {
  let dir: string;
  let server: ServerHandle | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsm-service-'));
  });
  afterEach(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(tokenFile?: string) {
    const logger = pino({ level: 'silent' });
    const { app, router } = createHttpApp({ service: 't', logger, registry: createMetricsRegistry() });
    let config = { name: 'n', cacheSize: 10, logLevel: 'info' as const } as z.output<typeof schema>;
    const applied: string[][] = [];
    router.use('/v1/admin', adminGuard(tokenFile));
    adminConfigRoutes(router, {
      path: '/v1/admin/config',
      schema,
      sources: {
        defaults: { name: 'n', cacheSize: 10, logLevel: 'info' },
        persisted: join(dir, 'changes.json'),
      },
      current: () => config,
      apply: (next, changed) => {
        config = next;
        applied.push(changed);
      },
      logger,
    });
    server = await serve(app, { port: 0, host: '127.0.0.1' });
    return { url: server.url, applied, config: () => config };
  }

  const call = (url: string, method: string, body?: unknown, token?: string) =>
    fetch(`${url}/v1/admin/config`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('refuses every admin call without a token file', async () => {
    const { url } = await start();
    const res = await call(url, 'GET');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_UNAUTHORIZED');
  });

  it('shows the run-time settings, and changes, persists and applies only valid ones', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'admin-secret\n');
    const node = await start(tokenFile);
    expect(await (await call(node.url, 'GET', undefined, 'admin-secret')).json()).toEqual({
      cacheSize: 10,
      logLevel: 'info',
    });
    const changed = await call(node.url, 'PUT', { cacheSize: 42 }, 'admin-secret');
    expect(await changed.json()).toEqual({ cacheSize: 42, logLevel: 'info' });
    expect(node.config().cacheSize).toBe(42);
    expect(node.applied).toEqual([['cacheSize']]);
    expect(JSON.parse(readFileSync(join(dir, 'changes.json'), 'utf8'))).toEqual({ cacheSize: 42 });
    // Out of bounds, not run-time, unknown: refused, nothing applied.
    for (const body of [{ cacheSize: 101 }, { name: 'x' }, { other: 1 }])
      expect((await call(node.url, 'PUT', body, 'admin-secret')).status).toBe(400);
    expect(node.applied).toHaveLength(1);
    expect((await call(node.url, 'PUT', { cacheSize: 1 }, 'wrong')).status).toBe(401);
  });
});
