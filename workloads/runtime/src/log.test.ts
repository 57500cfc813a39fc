import { describe, expect, it } from '@jest/globals';
import {
  REDACTED,
  RequestSampler,
  createLogger,
  httpLogSerializers,
  redactSecrets,
  redactUrl,
  setLogLevel,
} from './log.js';

function capture(level?: 'info' | 'debug') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'test-svc',
    level,
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes JSON lines with the service, a level label and an ISO time', () => {
    const { logger, lines } = capture();
    logger.info({ n: 1 }, 'hello');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ service: 'test-svc', level: 'info', msg: 'hello', n: 1 });
    expect(new Date(lines[0]?.time as string).toISOString()).toBe(lines[0]?.time);
  });

  it('redacts token/secret/key/password fields at any depth, and nothing else', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        adminToken: 'tok-1',
        peer: { url: 'http://x', apiKey: 'k-1', nested: [{ clientSecret: 's-1', id: 7 }] },
        headers: { authorization: 'Bearer tok-2', accept: 'json' },
        signerKey: 'priv',
        password: 'pw',
        tokenId: 'USD',
      },
      'config',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['tok-1', 'k-1', 's-1', 'tok-2', 'priv', '"pw"']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      adminToken: REDACTED,
      peer: { url: 'http://x', apiKey: REDACTED, nested: [{ clientSecret: REDACTED, id: 7 }] },
      headers: { authorization: REDACTED, accept: 'json' },
      tokenId: 'USD',
    });
  });

  it('redacts secrets bound to child loggers', () => {
    const { logger, lines } = capture();
    const child = logger.child({ bridgeKey: 'hex-secret', chain: 1 });
    child.info('child');
    child.child({ sessionToken: 'grand-secret' }).info('grandchild');
    expect(lines[0]).toMatchObject({ bridgeKey: REDACTED, chain: 1 });
    expect(lines[1]).toMatchObject({ bridgeKey: REDACTED, sessionToken: REDACTED });
    expect(JSON.stringify(lines)).not.toMatch(/hex-secret|grand-secret/);
  });

  it('keeps errors serialised with their message and stack', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('boom') }, 'failed');
    expect(lines[0]?.err).toMatchObject({ type: 'Error', message: 'boom' });
  });

  it('changes level at run time, for existing children too', () => {
    const { logger, lines } = capture('info');
    const child = logger.child({ module: 'm' });
    child.debug('hidden');
    expect(lines).toHaveLength(0);
    setLogLevel(logger, 'debug');
    child.debug('shown');
    logger.debug('shown too');
    expect(lines.map((l) => l.msg)).toEqual(['shown', 'shown too']);
    expect(() => setLogLevel(logger, 'verbose')).toThrow();
    expect(logger.level).toBe('debug');
  });
});

describe('redactSecrets', () => {
  it('leaves class instances alone and stops at depth', () => {
    const buffer = Buffer.from('key material?');
    const out = redactSecrets({ data: buffer, a: { b: { c: 1 } } }) as Record<string, unknown>;
    expect(out.data).toBe(buffer);
    expect(out).toEqual({ data: buffer, a: { b: { c: 1 } } });
  });
});

describe('redactUrl', () => {
  it('replaces the values of secret-named query parameters, however the name is spelled', () => {
    expect(redactUrl('/v1/x?token=abc&limit=5')).toBe(`/v1/x?token=${REDACTED}&limit=5`);
    expect(redactUrl('/a?access_token=1&api_key=2&apiKey=3&client_secret=4&password=5&tokenId=USD')).toBe(
      `/a?access_token=${REDACTED}&api_key=${REDACTED}&apiKey=${REDACTED}&client_secret=${REDACTED}&password=${REDACTED}&tokenId=USD`,
    );
    expect(redactUrl('/a?%74oken=1&TOKEN=2&token[]=3&x-auth+token=4&%zz=5')).toBe(
      `/a?%74oken=${REDACTED}&TOKEN=${REDACTED}&token[]=${REDACTED}&x-auth+token=${REDACTED}&%zz=5`,
    );
  });

  it('leaves urls without secrets as they are', () => {
    for (const url of ['/v1/tokens/abc', '/a?', '/a?token', '/a?limit=5&&from=0', '/a?q=token%3Dx'])
      expect(redactUrl(url)).toBe(url);
  });
});

describe('httpLogSerializers', () => {
  it('redacts secret-named headers and query values in copies, never in the request', () => {
    const headers = { 'x-dsm-token': 't', 'x-admin-token': 't', 'set-cookie': ['c'], accept: 'a' };
    const query = { access_token: 't', limit: '5' };
    const req = { id: 1, url: '/a?access_token=t&limit=5', query, headers };
    expect(httpLogSerializers.req(req)).toEqual({
      id: 1,
      url: `/a?access_token=${REDACTED}&limit=5`,
      query: { access_token: REDACTED, limit: '5' },
      headers: { 'x-dsm-token': REDACTED, 'x-admin-token': REDACTED, 'set-cookie': REDACTED, accept: 'a' },
    });
    expect(httpLogSerializers.res({ headers })).toMatchObject({ headers: { 'set-cookie': REDACTED } });
    expect(req.headers['x-dsm-token']).toBe('t');
    expect(query.access_token).toBe('t');
  });
});

describe('RequestSampler', () => {
  it('lets one request per key through per window and counts the others for the next one', () => {
    const sampler = new RequestSampler(1_000);
    expect(sampler.take('GET /a', 0)).toBe(0);
    expect(sampler.take('GET /a', 10)).toBeNull();
    expect(sampler.take('GET /b', 10)).toBe(0);
    expect(sampler.take('GET /a', 999)).toBeNull();
    expect(sampler.take('GET /a', 1_000)).toBe(2);
    expect(sampler.take('GET /a', 1_500)).toBeNull();
    expect(sampler.take('GET /a', 5_000)).toBe(1);
    expect(sampler.take('GET /a', 9_000)).toBe(0);
  });

  it('lets every request through with a window of 0', () => {
    const sampler = new RequestSampler(0);
    for (let i = 0; i < 5; i++) expect(sampler.take('GET /a', 7)).toBe(0);
  });
});
