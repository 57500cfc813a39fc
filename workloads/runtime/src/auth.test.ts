import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminAuth } from './auth.js';
import { ConfigError } from './config.js';
import { createHttpApp, serve, type ServerHandle } from './http.js';
import { createLogger } from './log.js';
import { createMetricsRegistry } from './metrics.js';

const TOKEN = 'correct-horse-battery-staple';
let dir: string;
let handle: ServerHandle;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsm-auth-'));
  const tokenFile = join(dir, 'admin-token');
  await writeFile(tokenFile, `${TOKEN}\n`);
  const logger = createLogger({
    service: 'auth-test',
    level: 'trace',
    destination: { write: (l: string) => void lines.push(l) },
  });
  const { app, router } = createHttpApp({
    service: 'auth-test',
    logger,
    registry: createMetricsRegistry({ defaultMetrics: false }),
  });
  router.use('/admin', adminAuth({ tokenFile }));
  router.post('/admin/config', (_req, res) => {
    res.json({ ok: true });
  });
  router.get('/public', (_req, res) => {
    res.json({ ok: true });
  });
  handle = await serve(app, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await handle.close();
  await rm(dir, { recursive: true, force: true });
});

async function admin(authorization?: string) {
  const res = await fetch(`${handle.url}/admin/config`, {
    method: 'POST',
    headers: authorization === undefined ? {} : { authorization },
  });
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    body: (await res.json()) as unknown,
  };
}

describe('adminAuth', () => {
  it('lets the admin token through', async () => {
    expect(await admin(`Bearer ${TOKEN}`)).toMatchObject({ status: 200, body: { ok: true } });
    expect(await admin(`bearer   ${TOKEN} `)).toMatchObject({ status: 200 });
  });

  it('answers a missing token with 401 E_UNAUTHORIZED and a Bearer challenge', async () => {
    for (const header of [
      undefined,
      '',
      `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`,
      'Bearer',
    ]) {
      const res = await admin(header);
      expect(res).toMatchObject({
        status: 401,
        challenge: 'Bearer realm="dsm-admin"',
        body: { error: { code: 'E_UNAUTHORIZED' } },
      });
    }
  });

  it('answers a wrong token with 401 invalid_token', async () => {
    for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, -1), 'a', TOKEN.toUpperCase()]) {
      expect(await admin(`Bearer ${wrong}`)).toMatchObject({
        status: 401,
        challenge: 'Bearer realm="dsm-admin", error="invalid_token"',
        body: {
          error: {
            code: 'E_UNAUTHORIZED',
            message: 'admin endpoint: the bearer token is not the admin token',
          },
        },
      });
    }
  });

  it('guards only the routes it is mounted on', async () => {
    expect((await fetch(`${handle.url}/public`)).status).toBe(200);
  });

  it('never writes the token to the logs', () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(TOKEN.slice(0, 12));
  });

  it('refuses to start with a missing or empty token file', async () => {
    expect(() => adminAuth({ tokenFile: join(dir, 'nope') })).toThrow(ConfigError);
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    expect(() => adminAuth({ tokenFile: empty })).toThrow(/non-empty secret/);
    expect(() => adminAuth({ token: '' })).toThrow(/empty/);
  });
});
