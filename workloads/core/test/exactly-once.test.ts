/**
 * Exactly-once custodial requests through real core and storage processes: Idempotency-Key retries after a
 * 503, after auto-receive finished the pending state first, and after a kill -9 that left the client
 * without an answer; identity creation that a crash cannot leave half-made; receives racing auto-receive.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { eventually, Network } from '@dsm/testkit';

type Json = Record<string, unknown> & { error?: { code: string; details: Record<string, unknown> } };
type Balances = Record<string, { available: string; locked: string }>;

async function identity(net: Network, label: string, key?: string): Promise<string> {
  const res = await net.core.call<Json>(
    'POST',
    '/v1/identities',
    { label, suite: 'ml-dsa-44' },
    key ? { key } : {},
  );
  expect(res.status).toBe(201);
  return res.body.identity as string;
}

async function tokenOf(net: Network, issuer: string): Promise<string> {
  const res = await net.core.call<Json>('POST', `/v1/identities/${issuer}/tokens`, {
    symbol: 'X',
    name: 'Exact',
    initialSupply: '100000',
    policy: { conditions: [] },
  });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

/** The transfers in a chain, by state id. */
async function transfersOf(net: Network, who: string): Promise<string[]> {
  const chain = (
    await net.core.call<{ states: { n: number; stateId: string }[] }>(
      'GET',
      `/v1/identities/${who}/chain?limit=10000`,
    )
  ).body.states;
  const out: string[] = [];
  for (const { n, stateId } of chain) {
    const res = await fetch(`${net.core.url}/v1/identities/${who}/states/${n}`, {
      headers: { accept: 'application/vnd.ipld.dag-json' },
    });
    const state = (await res.json()) as {
      state: { op: { kind: string } };
    };
    if (state.state.op.kind === 'token.transfer') out.push(stateId);
  }
  return out;
}

const balances = async (net: Network, who: string) =>
  (await net.core.call<{ balances: Balances }>('GET', `/v1/identities/${who}/balances`)).body.balances;

describe('exactly-once custodial requests', () => {
  let net: Network;
  afterEach(() => net.destroy());

  it('a retry after a 503 answers the original transfer even when auto-receive finished it first', async () => {
    net = await new Network().start();
    const alice = await identity(net, 'alice');
    const bob = await identity(net, 'bob');
    const gold = await tokenOf(net, alice);
    const silver = await tokenOf(net, bob);
    await net.storage[1]!.stop(); // writes cannot reach R = 2
    const request = { token: gold, amount: '7', to: bob };
    const key = { key: randomUUID() };
    const first = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(first.status).toBe(503);
    const pending = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.pending as string;
    expect(typeof pending).toBe('string');
    await net.storage[1]!.start();
    // Bob pays Alice: auto-receive acts for Alice, finishing her pending transfer before the retry comes.
    expect(
      (
        await net.core.call('POST', `/v1/identities/${bob}/transfer`, {
          token: silver,
          amount: '1',
          to: alice,
        })
      ).status,
    ).toBe(201);
    await eventually(
      async () => (await balances(net, alice))[silver]?.available === '1',
      15_000,
      'auto-receive',
    );
    expect((await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.pending).toBeNull();
    const retried = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ stateId: pending, resumed: true });
    expect(await transfersOf(net, alice)).toEqual([pending]);
    expect((await balances(net, alice))[gold]!.available).toBe('99993');
  });

  it('the same key with another body is 409 E_CONFLICT; a new key after a 503 is a new transfer', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    const alice = await identity(net, 'alice');
    const bob = await identity(net, 'bob');
    const gold = await tokenOf(net, alice);
    const key = { key: randomUUID() };
    const sent = await net.core.call<Json>(
      'POST',
      `/v1/identities/${alice}/transfer`,
      { token: gold, amount: '5', to: bob },
      key,
    );
    expect(sent.status).toBe(201);
    const other = await net.core.call<Json>(
      'POST',
      `/v1/identities/${alice}/transfer`,
      { token: gold, amount: '6', to: bob },
      key,
    );
    expect(other.status).toBe(409);
    expect(other.body.error!.code).toBe('E_CONFLICT');
    const elsewhere = await net.core.call<Json>(
      'POST',
      `/v1/identities/${alice}/burn`,
      { token: gold, amount: '5' },
      key,
    );
    expect(elsewhere.status).toBe(409);
    // The same keyed request several times at once: one transfer, every answer names it.
    const racing = { key: randomUUID() };
    const together = await Promise.all(
      Array.from({ length: 6 }, () =>
        net.core.call<Json>(
          'POST',
          `/v1/identities/${alice}/transfer`,
          { token: gold, amount: '1', to: bob },
          racing,
        ),
      ),
    );
    expect(together.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(new Set(together.map((r) => r.body.stateId)).size).toBe(1);
    // Field order does not make another request.
    const same = await net.core.call<Json>(
      'POST',
      `/v1/identities/${alice}/transfer`,
      { to: bob, amount: '5', token: gold },
      key,
    );
    expect(same.status).toBe(201);
    expect(same.body.stateId).toBe(sent.body.stateId);

    await net.storage[1]!.stop();
    const request = { token: gold, amount: '9', to: bob };
    expect(
      (await net.core.call('POST', `/v1/identities/${alice}/transfer`, request, { key: randomUUID() }))
        .status,
    ).toBe(503);
    await net.storage[1]!.start();
    // Same token, amount and recipient but a new key: a new payment, not the pending one answered again.
    const fresh = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, {
      key: randomUUID(),
    });
    expect(fresh.status).toBe(201);
    expect(fresh.body.resumed).toBeUndefined();
    expect(await transfersOf(net, alice)).toHaveLength(4);
    expect((await balances(net, alice))[gold]!.available).toBe(String(100000 - 5 - 1 - 9 - 9));
  });

  it('kill -9 mid-burst: retrying every unanswered keyed request applies each exactly once', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    const alice = await identity(net, 'alice');
    const bob = await identity(net, 'bob');
    const gold = await tokenOf(net, alice);
    const keys: string[] = [];
    const answered = new Map<string, string>();
    let stop = false;
    const burst = (async () => {
      for (let i = 0; i < 300 && !stop; i++) {
        const key = randomUUID();
        keys.push(key);
        try {
          const res = await net.core.call<Json>(
            'POST',
            `/v1/identities/${alice}/transfer`,
            { token: gold, amount: '1', to: bob },
            { key },
          );
          if (res.status === 201) answered.set(key, res.body.stateId as string);
        } catch {
          return; // no answer: the core is gone
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 800));
    await net.core.kill();
    stop = true;
    await burst;
    await net.core.start();
    // Every request is retried with its key, answered or not (a client cannot tell a lost answer).
    const results = new Map<string, string>();
    for (const key of keys) {
      const res = await net.core.call<Json>(
        'POST',
        `/v1/identities/${alice}/transfer`,
        { token: gold, amount: '1', to: bob },
        { key },
      );
      expect(res.status).toBe(201);
      results.set(key, res.body.stateId as string);
    }
    for (const [key, stateId] of answered) expect(results.get(key)).toBe(stateId);
    const chain = await transfersOf(net, alice);
    expect(new Set(results.values()).size).toBe(keys.length);
    expect(chain.sort()).toEqual([...results.values()].sort());
    expect((await balances(net, alice))[gold]!.available).toBe(String(100000 - keys.length));
  });

  it('kill -9 during concurrent identity creation leaves no identity without state 0', async () => {
    net = await new Network().start();
    const alice = await identity(net, 'alice');
    const gold = await tokenOf(net, alice);
    let stop = false;
    const creating = Array.from({ length: 12 }, async (_, w) => {
      for (let i = 0; !stop && i < 50; i++) {
        try {
          await net.core.call('POST', '/v1/identities', { label: `z${w}-${i}`, suite: 'ml-dsa-44' });
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 700));
    await net.core.kill();
    stop = true;
    await Promise.all(creating);
    await net.core.start();
    const hosted = (await net.core.call<{ identities: { identity: string }[] }>('GET', '/v1/identities')).body
      .identities;
    expect(hosted.length).toBeGreaterThan(3);
    // Each one finishes by itself (no request needed) and can receive.
    await eventually(
      async () => {
        for (const { identity: id } of hosted) {
          const details = (await net.core.call<Json>('GET', `/v1/identities/${id}`)).body;
          if (details.n !== 0 && details.n !== 1) return false;
        }
        return true;
      },
      20_000,
      'every created identity to have state 0',
    );
    const last = hosted[hosted.length - 1]!.identity;
    expect(
      (
        await net.core.call('POST', `/v1/identities/${alice}/transfer`, {
          token: gold,
          amount: '3',
          to: last,
        })
      ).status,
    ).toBe(201);
    await eventually(async () => (await balances(net, last))[gold]?.available === '3', 15_000, 'receive');
  });

  it('identity creation with a key is answered once, even after a 503', async () => {
    net = await new Network().start();
    await net.storage[1]!.stop();
    const key = randomUUID();
    const first = await net.core.call<Json>('POST', '/v1/identities', { label: 'late' }, { key });
    expect(first.status).toBe(503);
    const id = first.body.error!.details.identity as string;
    await net.storage[1]!.start();
    const again = await net.core.call<Json>('POST', '/v1/identities', { label: 'late' }, { key });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ identity: id, n: 0, label: 'late' });
    const listed = (await net.core.call<{ identities: { label?: string }[] }>('GET', '/v1/identities')).body
      .identities;
    expect(listed.filter((i) => i.label === 'late')).toHaveLength(1);
  });

  it('explicit receives racing auto-receive answer 201 or 200 alreadyReceived, never an error', async () => {
    net = await new Network().start({ coreEnv: { DSM_RECEIVE_POLL_MS: '50' } });
    const alice = await identity(net, 'alice');
    const bob = await identity(net, 'bob');
    const gold = await tokenOf(net, alice);
    for (let round = 0; round < 4; round++) {
      const sent = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, {
        token: gold,
        amount: '2',
        to: bob,
      });
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          net.core.call<Json>('POST', `/v1/identities/${bob}/receive`, { transfer: sent.body.stateId }),
        ),
      );
      for (const a of answers) {
        expect([200, 201]).toContain(a.status);
        if (a.status === 200) expect(a.body.alreadyReceived).toBe(true);
      }
      expect(answers.filter((a) => a.status === 201).length).toBeLessThanOrEqual(1);
    }
    await eventually(async () => (await balances(net, bob))[gold]?.available === '8', 10_000, 'receives');
  });
});
