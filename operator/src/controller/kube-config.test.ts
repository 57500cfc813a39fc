import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { PooledKubeConfig } from './kube-config.js';

function config(caFile: string): PooledKubeConfig {
  const kc = new PooledKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caFile }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function authenticated(kc: PooledKubeConfig) {
  const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return context;
}

describe('PooledKubeConfig', () => {
  it('hands every request the same Agent while the TLS files stay the same, a new one once they change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pooled-'));
    const ca = join(dir, 'ca.crt');
    writeFileSync(ca, 'first');
    const kc = config(ca);
    const a = await authenticated(kc);
    const b = await authenticated(kc);
    expect(a.getDispatcher()).toBeDefined();
    expect(b.getDispatcher()).toBe(a.getDispatcher());
    // Headers are still applied per request.
    expect(b.getHeaders().Authorization).toBe('Bearer secret-token');

    writeFileSync(ca, 'rotated');
    const c = await authenticated(kc);
    expect(c.getDispatcher()).toBeDefined();
    expect(c.getDispatcher()).not.toBe(a.getDispatcher());
    expect((await authenticated(kc)).getDispatcher()).toBe(c.getDispatcher());
  });
});
