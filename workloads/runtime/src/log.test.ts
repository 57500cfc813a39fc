import { describe, expect, it } from '@jest/globals';
import { REDACTED, createLogger, redactSecrets, setLogLevel } from './log.js';

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
