import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeExport, nodeBackend, verifyExport } from '@dsm/protocol';
import { eventually, Network, sleep } from '@dsm/testkit';

type Json = Record<string, unknown> & {
  error?: { code: string; message: string; details: Record<string, unknown> };
};

describe('core node over real storage nodes', () => {
  const net = new Network();
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    await net.start();
    const create = async (label: string) => {
      const res = await net.core.call<Json>('POST', '/v1/identities', { label, suite: 'ml-dsa-44' });
      expect(res.status).toBe(201);
      return res.body.identity as string;
    };
    [alice, bob, carol] = [await create('alice'), await create('bob'), await create('carol')];
  });
  afterAll(() => net.destroy());

  const token = async (owner: string, conditions: unknown[], initialSupply = '1000') =>
    net.core.call<Json>('POST', `/v1/identities/${owner}/tokens`, {
      symbol: 'T',
      name: 'Test',
      initialSupply,
      policy: { conditions },
    });
  const transfer = (from: string, tokenId: string, amount: string, to: string) =>
    net.core.call<Json>('POST', `/v1/identities/${from}/transfer`, { token: tokenId, amount, to });
  const balance = async (who: string, tokenId: string) =>
    (
      (await net.core.call<Json>('GET', `/v1/identities/${who}/balances`)).body.balances as Record<
        string,
        { available: string; locked: string }
      >
    )[tokenId];

  it('creates, transfers and auto-receives exactly once', async () => {
    const created = await token(alice, []);
    expect(created.status).toBe(201);
    const tokenId = created.body.token as string;
    // The verified policy document is kept on the policies volume under its anchor.
    expect(existsSync(join(net.core.dir, 'policies', `${created.body.policy as string}.cbor`))).toBe(true);
    const sent = await transfer(alice, tokenId, '250', bob);
    expect(sent.status).toBe(201);
    await eventually(
      async () => (await balance(bob, tokenId))?.available === '250',
      10_000,
      'bob to receive',
    );
    // Asking again for the same transfer answers with the receive that happened, not a second one.
    const again = await net.core.call<Json>('POST', `/v1/identities/${bob}/receive`, {
      transfer: sent.body.stateId,
    });
    expect(again.status).toBe(200);
    expect(again.body.alreadyReceived).toBe(true);
    const inbox = await net.core.call<{ entries: { received: boolean }[] }>(
      'GET',
      `/v1/identities/${bob}/inbox`,
    );
    expect(inbox.body.entries.filter((e) => e.received)).toHaveLength(1);
    expect(await balance(bob, tokenId)).toEqual({ available: '250', locked: '0' });
    expect(await balance(alice, tokenId)).toEqual({ available: '750', locked: '0' });
  });

  it.each([
    ['operations', [{ kind: 'operations', allow: ['token.transfer'] }], 'burn'],
    ['issuerOnly', [{ kind: 'issuerOnly', ops: ['token.burn'] }], 'bob-burn'],
    ['supplyCap', [{ kind: 'supplyCap', max: '1000' }], 'mint'],
    ['amountLimit', [{ kind: 'amountLimit', op: 'token.transfer', max: '10' }], 'transfer'],
    ['timeWindow', [{ kind: 'timeWindow', notBefore: Date.now() + 86_400_000 }], 'create'],
    ['allowList', 'allow', 'transfer-carol'],
    ['denyList', 'deny', 'transfer-carol'],
    ['coSign', 'cosign', 'transfer'],
  ] as const)('a violated %s condition is E_POLICY naming it', async (kind, conditionsSpec, action) => {
    const conditions =
      conditionsSpec === 'allow'
        ? [{ kind: 'allowList', appliesTo: 'recipient', identities: [alice, bob] }]
        : conditionsSpec === 'deny'
          ? [{ kind: 'denyList', identities: [carol] }]
          : conditionsSpec === 'cosign'
            ? [
                {
                  kind: 'coSign',
                  signers: ['ab'.repeat(1312)],
                  suite: 'ml-dsa-44',
                  threshold: 1,
                  ops: ['token.transfer'],
                },
              ]
            : conditionsSpec;
    const created = await token(alice, conditions as unknown[]);
    let res = created;
    if (action !== 'create') {
      expect(created.status).toBe(201);
      const tokenId = created.body.token as string;
      if (action === 'burn')
        res = await net.core.call('POST', `/v1/identities/${alice}/burn`, { token: tokenId, amount: '1' });
      if (action === 'mint')
        res = await net.core.call('POST', `/v1/identities/${alice}/mint`, { token: tokenId, amount: '1' });
      if (action === 'transfer') res = await transfer(alice, tokenId, '11', bob);
      if (action === 'transfer-carol') res = await transfer(alice, tokenId, '1', carol);
      if (action === 'bob-burn') {
        expect((await transfer(alice, tokenId, '5', bob)).status).toBe(201);
        await eventually(
          async () => (await balance(bob, tokenId))?.available === '5',
          10_000,
          'bob to receive',
        );
        res = await net.core.call('POST', `/v1/identities/${bob}/burn`, { token: tokenId, amount: '1' });
      }
    }
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'E_POLICY', details: { kind } });
  });

  it('a retried token create with the same nonce creates the token once', async () => {
    const body = {
      symbol: 'N',
      name: 'Nonce',
      initialSupply: '10',
      policy: { conditions: [] },
      nonce: 'ab'.repeat(32),
    };
    const first = await net.core.call<Json>('POST', `/v1/identities/${carol}/tokens`, body);
    const again = await net.core.call<Json>('POST', `/v1/identities/${carol}/tokens`, body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ token: first.body.token, stateId: first.body.stateId, resumed: true });
    expect(await balance(carol, first.body.token as string)).toEqual({ available: '10', locked: '0' });
  });

  it('exports a chain segment that verifies offline', async () => {
    const res = await fetch(`${net.core.url}/v1/identities/${alice}/export?from=2`);
    expect(res.status).toBe(200);
    const bundle = decodeExport(new Uint8Array(await res.arrayBuffer()));
    const result = await verifyExport(bundle, nodeBackend);
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(bundle.states.length);
    expect(bundle.checkpoint?.state.state.n).toBe(1);
  });

  it('rejects hostile requests with codes and no state change', async () => {
    const before = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.n;
    const raw = (path: string, body: string | Uint8Array, type: string) =>
      fetch(`${net.core.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as Json }),
      );
    expect(
      (await raw(`/v1/identities/${alice}/transfer`, '{"token":', 'application/json')).body.error!.code,
    ).toBe('E_BAD_REQUEST');
    expect(
      (await raw('/v1/states', new Uint8Array([0xa1, 0x01]), 'application/vnd.ipld.dag-cbor')).body.error!
        .code,
    ).toBe('E_DECODE');
    expect((await raw('/v1/states', 'x'.repeat(3_000_000), 'application/vnd.ipld.dag-cbor')).status).toBe(
      413,
    );
    expect((await transfer(alice, 'not-an-id', '1', bob)).body.error!.code).toBe('E_DECODE');
    expect((await transfer(alice, bob, '1', bob)).body.error!.code).toBe('E_UNKNOWN_TOKEN');
    expect((await transfer(alice, bob, '-1', bob)).body.error!.code).toBe('E_BAD_REQUEST');
    const longMemo = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, {
      token: bob,
      amount: '1',
      to: bob,
      memo: 'x'.repeat(257),
    });
    expect(longMemo.body.error).toMatchObject({ code: 'E_BAD_REQUEST', details: { field: 'memo' } });
    // A replayed state: alice's state 1 submitted again is a no-op (decision 13), as on storage.
    const replay = await fetch(`${net.core.url}/v1/identities/${alice}/states/1`, {
      headers: { accept: 'application/vnd.ipld.dag-cbor' },
    });
    const replayed = await raw(
      '/v1/states',
      new Uint8Array(await replay.arrayBuffer()),
      'application/vnd.ipld.dag-cbor',
    );
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ n: 1, resumed: true });
    expect((await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.n).toBe(before);
  });

  it('custodial operations need the API token; reads and client-signed states do not', async () => {
    const tokenId = (await token(alice, [])).body.token as string;
    for (const t of [null, 'wrong']) {
      const res = await net.core.call<Json>(
        'POST',
        `/v1/identities/${alice}/transfer`,
        { token: tokenId, amount: '1', to: bob },
        { token: t },
      );
      expect(res.status).toBe(401);
      expect(res.body.error!.code).toBe('E_UNAUTHORIZED');
      expect(
        (await net.core.call<Json>('POST', '/v1/identities', { label: 'eve' }, { token: t })).status,
      ).toBe(401);
    }
    expect(
      (await net.core.call('GET', `/v1/identities/${alice}/balances`, undefined, { token: null })).status,
    ).toBe(200);
  });

  it('admin endpoints reject missing and wrong tokens', async () => {
    const put = (auth?: string) =>
      fetch(`${net.core.p2pUrl}/v1/admin/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify({ policyCacheSize: 2000, policyTtl: 7200 }),
      });
    expect((await put()).status).toBe(401);
    expect((await put('Bearer wrong')).status).toBe(401);
    const ok = await put(`Bearer ${net.core.adminToken}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ policyCacheSize: 2000, policyTtl: 7200 });
    const metrics = await (await fetch(`${net.core.p2pUrl}/metrics`)).text();
    expect(metrics).toMatch(/dsm_state_transitions_total \d+/);
    expect(metrics).toMatch(/dsm_policy_verification_total\{result="fail"\} \d+/);
    await sleep(1);
  });
});
