import { afterEach, describe, expect, it } from '@jest/globals';
import { decodeExport, nodeBackend, verifyExport } from '@dsm/protocol';
import { eventually, Network, sleep } from '@dsm/testkit';
import { balancesOf, hostedPair, type Json } from './hosted-pair.js';

const setup = (net: Network) => hostedPair(net);
const balances = (net: Network, who: string) => balancesOf(net.core, who);

describe('core node resilience', () => {
  let net: Network;
  afterEach(() => net.destroy());

  it('a restart keeps identities, keys and balances', async () => {
    net = await new Network().start();
    const { alice, bob, token } = await setup(net);
    expect(
      (await net.core.call('POST', `/v1/identities/${alice}/transfer`, { token, amount: '10', to: bob }))
        .status,
    ).toBe(201);
    await eventually(async () => (await balances(net, bob))[token]?.available === '10', 10_000, 'receive');
    expect(await net.core.stop()).toBe(0);
    await net.core.start();
    const listed = (
      await net.core.call<{ identities: { identity: string }[] }>('GET', '/v1/identities')
    ).body.identities.map((i) => i.identity);
    expect(listed.sort()).toEqual([alice, bob].sort());
    expect((await balances(net, alice))[token]).toEqual({ available: '99990', locked: '0' });
    // The keystore opens after the restart: the identities can still sign.
    expect(
      (await net.core.call('POST', `/v1/identities/${bob}/transfer`, { token, amount: '3', to: alice }))
        .status,
    ).toBe(201);
  });

  it('kill -9 during a transfer burst loses and duplicates nothing; chains verify; supply is conserved', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    const { alice, bob, token } = await setup(net);
    const acknowledged: string[] = [];
    let stop = false;
    const burst = (async () => {
      for (let i = 0; i < 200 && !stop; i++) {
        try {
          const res = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, {
            token,
            amount: '1',
            to: bob,
          });
          if (res.status === 201) acknowledged.push(res.body.stateId as string);
        } catch {
          return; // the core is gone
        }
      }
    })();
    await sleep(700);
    await net.core.kill();
    stop = true;
    await burst;
    expect(acknowledged.length).toBeGreaterThan(3);
    await net.core.start();
    // Finish whatever the crash left pending with one more operation, then look at the chain.
    expect(
      (await net.core.call('POST', `/v1/identities/${alice}/transfer`, { token, amount: '1', to: bob }))
        .status,
    ).toBe(201);
    const chain = (
      await net.core.call<{ states: { stateId: string }[] }>(
        'GET',
        `/v1/identities/${alice}/chain?limit=10000`,
      )
    ).body.states.map((s) => s.stateId);
    for (const id of acknowledged) expect(chain).toContain(id);
    expect(new Set(chain).size).toBe(chain.length);
    const sent = chain.length - 2; // genesis and create
    expect((await balances(net, alice))[token]!.available).toBe(String(100000 - sent));
    const received = await net.core.call<Json>('POST', `/v1/identities/${bob}/receive`, {});
    expect((received.body.received as unknown[]).length).toBe(sent);
    expect((await balances(net, bob))[token]!.available).toBe(String(sent));
    const supply = (
      await net.core.call<{ supply: { issued: string; burned: string } }>('GET', `/v1/tokens/${token}`)
    ).body.supply;
    expect(supply).toEqual({ issued: '100000', burned: '0' });
    for (const who of [alice, bob]) {
      const bundle = decodeExport(
        new Uint8Array(await (await fetch(`${net.core.url}/v1/identities/${who}/export`)).arrayBuffer()),
      );
      const result = await verifyExport(bundle, nodeBackend);
      expect(result.failure).toBeUndefined();
    }
  });

  it('storage down → 503 with a retryable code and nothing written; a retry with the same key is applied once', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    const { alice, bob, token } = await setup(net);
    const headBefore = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.n as number;
    await Promise.all(net.storage.map((s) => s.stop()));
    const request = { token, amount: '7', to: bob };
    const key = { key: 'storage-down-retry' };
    const down = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(down.status).toBe(503);
    expect(down.body.error!.code).toBe('E_UNAVAILABLE');
    await Promise.all(net.storage.map((s) => s.start()));
    const storageHead = (await (
      await fetch(`${net.storage[0]!.url}/v1/identities/${alice}/head`)
    ).json()) as { n: number };
    expect(storageHead.n).toBe(headBefore);
    const retried = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(retried.status).toBe(201);
    expect(retried.body.n).toBe(headBefore + 1);
    expect((await balances(net, alice))[token]!.available).toBe('99993');
  });

  it('a write the storage layer could not replicate stays pending; the retry finishes it instead of signing again', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    const { alice, bob, token } = await setup(net);
    const headBefore = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.n as number;
    await net.storage[1]!.stop(); // reads still work; writes cannot reach the replication factor
    const request = { token, amount: '7', to: bob };
    const key = { key: 'resume-after-503' };
    const first = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(first.status).toBe(503);
    const pending = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.pending;
    expect(typeof pending).toBe('string');
    // Another operation must wait for it: building on another state at that height would fork the chain.
    const blocked = await net.core.call<Json>('POST', `/v1/identities/${alice}/burn`, { token, amount: '1' });
    expect(blocked.status).toBe(503);
    expect(blocked.body.error!.details.pending).toBe(pending);
    await net.storage[1]!.start();
    const retried = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ resumed: true, stateId: pending, n: headBefore + 1 });
    expect((await balances(net, alice))[token]!.available).toBe('99993');
    expect((await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.pending).toBeNull();
  });
});
