/**
 * Several core nodes behind one Service (DSM_CORE_PEERS), with real core and storage processes: any node
 * answers for any hosted identity by forwarding to the node that hosts it (its keys are only there, so no
 * two nodes can sign for one identity: no fork whatever the timing); keyed retries landing on another node
 * apply once; an owner that is down gives 503 (never a false 404); a peer that does not answer or lies
 * never leads to a wrong answer or a forward loop.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeExport, nodeBackend, verifyExport } from '@dsm/protocol';
import { FaultProxy, Network, eventually, type CoreProcess } from '@dsm/testkit';

type Json = Record<string, unknown> & {
  error?: { code: string; message: string; details: Record<string, unknown> };
};
type Balances = Record<string, { available: string; locked: string }>;

async function create(node: CoreProcess, label: string, key?: string): Promise<string> {
  const res = await node.call<Json>(
    'POST',
    '/v1/identities',
    { label, suite: 'ml-dsa-44' },
    key ? { key } : {},
  );
  expect(res.status).toBe(201);
  return res.body.identity as string;
}

async function tokenOf(node: CoreProcess, issuer: string, supply = '100000'): Promise<string> {
  const res = await node.call<Json>('POST', `/v1/identities/${issuer}/tokens`, {
    symbol: 'RP',
    name: 'Replicas',
    initialSupply: supply,
    policy: { conditions: [] },
  });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

const transfer = (node: CoreProcess, from: string, body: Record<string, string>, key?: string) =>
  node.call<Json>('POST', `/v1/identities/${from}/transfer`, body, key ? { key } : {});

const balances = async (node: CoreProcess, who: string) =>
  (await node.call<{ balances: Balances }>('GET', `/v1/identities/${who}/balances`)).body.balances;

/** The raw answer (status, type, bytes) of a read. */
async function raw(node: CoreProcess, path: string, accept?: string) {
  const res = await fetch(`${node.url}${path}`, accept ? { headers: { accept } } : {});
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: Buffer.from(await res.arrayBuffer()).toString('base64'),
  };
}

async function chainIds(node: CoreProcess, who: string): Promise<string[]> {
  const res = await node.call<{ states: { stateId: string }[] }>(
    'GET',
    `/v1/identities/${who}/chain?limit=10000`,
  );
  return res.body.states.map((s) => s.stateId);
}

async function exportVerifies(node: CoreProcess, who: string): Promise<void> {
  const bytes = new Uint8Array(await (await fetch(`${node.url}/v1/identities/${who}/export`)).arrayBuffer());
  expect((await verifyExport(decodeExport(bytes), nodeBackend)).failure).toBeUndefined();
}

/** `dsm_core_forwarded_requests_total` of a node, by outcome. */
async function forwardedMetrics(node: CoreProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${node.p2pUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^dsm_core_forwarded_requests_total\{outcome="(\w+)"\} (\d+)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

function expectUnavailable(res: { status: number; body: Json }, peer: string): void {
  expect(res.status).toBe(503);
  expect(res.body.error!.code).toBe('E_UNAVAILABLE');
  expect(res.body.error!.message).toContain(peer);
  expect(res.body.error!.details.peers).toContain(peer);
}

describe('two core nodes sharing the storage nodes', () => {
  let net: Network;
  let a: CoreProcess;
  let b: CoreProcess;
  beforeAll(async () => {
    net = await new Network().start({ cores: 2, coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    [a, b] = net.cores as [CoreProcess, CoreProcess];
  });
  afterAll(() => net.destroy());

  it('an identity created on A is used through B: transfer, receive, balances, export; reads are the same bytes', async () => {
    const alice = await create(a, 'alice');
    const bob = await create(a, 'bob');
    const token = await tokenOf(b, alice);
    const sent = await transfer(b, alice, { token, amount: '25', to: bob });
    expect(sent.status).toBe(201);
    const received = await b.call<Json>('POST', `/v1/identities/${bob}/receive`, {
      transfer: sent.body.stateId,
    });
    expect(received.status).toBe(201);
    expect(await balances(b, bob)).toEqual({ [token]: { available: '25', locked: '0' } });
    const reads: [string, string?][] = [];
    for (const who of [alice, bob]) {
      reads.push(
        [`/v1/identities/${who}`],
        [`/v1/identities/${who}/balances`],
        [`/v1/identities/${who}/chain`],
        [`/v1/identities/${who}/inbox`],
        [`/v1/identities/${who}/forks`],
        [`/v1/identities/${who}/states/1`, 'application/vnd.ipld.dag-cbor'],
        [`/v1/identities/${who}/states/1`, 'application/vnd.ipld.dag-json'],
        [`/v1/identities/${who}/export`],
      );
    }
    reads.push([`/v1/tokens/${token}`]);
    for (const [path, accept] of reads) {
      const fromA = await raw(a, path, accept);
      expect(fromA.status).toBe(200);
      expect(await raw(b, path, accept)).toEqual(fromA);
    }
    // The details come from the node that hosts it, through either node.
    expect((await b.call<Json>('GET', `/v1/identities/${alice}`)).body.hosted).toBe(true);
    await exportVerifies(b, alice);
    await exportVerifies(b, bob);
    // The list is the union: both nodes list the identities of both.
    const carol = await create(b, 'carol');
    for (const node of [a, b]) {
      const listed = (
        await node.call<{ identities: { identity: string }[]; unreachable?: string[] }>(
          'GET',
          '/v1/identities',
        )
      ).body;
      expect(listed.unreachable).toBeUndefined();
      expect(listed.identities.map((i) => i.identity)).toEqual(expect.arrayContaining([alice, bob, carol]));
    }
    expect(await raw(a, '/v1/identities')).toEqual(await raw(b, '/v1/identities'));
    expect((await forwardedMetrics(b)).relayed).toBeGreaterThan(0);
  });

  it('no fork whatever the timing: 40 concurrent transfers of one identity sent alternately to A and B', async () => {
    const alice = await create(a, 'fork-alice');
    const bob = await create(b, 'fork-bob');
    const token = await tokenOf(a, alice);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        transfer(i % 2 === 0 ? a : b, alice, { token, amount: '1', to: bob }),
      ),
    );
    const acknowledged = answers.filter((r) => r.status === 201).map((r) => r.body.stateId as string);
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(201));
    const chain = await chainIds(b, alice);
    for (const id of acknowledged) expect(chain).toContain(id);
    expect(chain).toHaveLength(42); // genesis, create, 40 transfers
    expect(new Set(chain).size).toBe(chain.length);
    await exportVerifies(a, alice);
    const heads = [];
    for (const storage of net.storage) {
      const forks = (await (await fetch(`${storage.url}/v1/identities/${alice}/forks`)).json()) as Json;
      expect(forks.forked).toBe(false);
      expect(forks.evidence).toEqual([]);
      heads.push(await (await fetch(`${storage.url}/v1/identities/${alice}/head`)).json());
    }
    expect(heads[1]).toEqual(heads[0]);
    expect((heads[0] as { n: number }).n).toBe(41);
    expect(await balances(b, alice)).toEqual({ [token]: { available: '99960', locked: '0' } });
  });

  it('two identities, one on each node, both used through both nodes at once', async () => {
    const carol = await create(a, 'carol-a');
    const dave = await create(b, 'dave-b');
    const [carolToken, daveToken] = await Promise.all([tokenOf(b, carol), tokenOf(a, dave)]);
    const sends = [];
    for (let i = 0; i < 10; i++) {
      const node = i % 2 === 0 ? a : b;
      const other = node === a ? b : a;
      sends.push(transfer(node, carol, { token: carolToken, amount: '2', to: dave }));
      sends.push(transfer(other, dave, { token: daveToken, amount: '3', to: carol }));
    }
    expect((await Promise.all(sends)).map((r) => r.status)).toEqual(Array(20).fill(201));
    const [toDave, toCarol] = await Promise.all([
      a.call<Json>('POST', `/v1/identities/${dave}/receive`, {}),
      b.call<Json>('POST', `/v1/identities/${carol}/receive`, {}),
    ]);
    expect((toDave.body.received as unknown[]).length).toBe(10);
    expect((toCarol.body.received as unknown[]).length).toBe(10);
    for (const node of [a, b]) {
      expect(await balances(node, carol)).toEqual({
        [carolToken]: { available: '99980', locked: '0' },
        [daveToken]: { available: '30', locked: '0' },
      });
      expect(await balances(node, dave)).toEqual({
        [daveToken]: { available: '99970', locked: '0' },
        [carolToken]: { available: '20', locked: '0' },
      });
    }
    await exportVerifies(a, dave);
    await exportVerifies(b, carol);
  });

  it('a keyed creation retried on the other node makes one identity; a keyed transfer retried there, one transfer', async () => {
    const listed = async () =>
      (await a.call<{ identities: { identity: string; label?: string }[] }>('GET', '/v1/identities')).body
        .identities;
    // Twelve keys: the chance that all name the same node is 1 in 2048.
    const keys = Array.from({ length: 12 }, (_, i) => `create-${i}`);
    for (const key of keys) {
      const first = await a.call<Json>('POST', '/v1/identities', { label: key, suite: 'ml-dsa-44' }, { key });
      const retry = await b.call<Json>('POST', '/v1/identities', { label: key, suite: 'ml-dsa-44' }, { key });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.body.identity).toBe(first.body.identity);
      expect(retry.body.stateId).toBe(first.body.stateId);
      expect((await listed()).filter((i) => i.label === key)).toHaveLength(1);
    }
    // The keys went to both nodes (the key decides which), not all to one.
    const hostedOnA = (await (await fetch(`${a.p2pUrl}/v1/hosted`)).json()) as Json & {
      identities: { label?: string }[];
    };
    const onA = hostedOnA.identities.filter((i) => i.label?.startsWith('create-')).length;
    expect(onA).toBeGreaterThan(0);
    expect(onA).toBeLessThan(keys.length);

    const alice = await create(a, 'keyed-alice');
    const bob = await create(b, 'keyed-bob');
    const token = await tokenOf(a, alice);
    const body = { token, amount: '5', to: bob };
    const first = await transfer(a, alice, body, 'pay-once');
    const retry = await b.call<Json>('POST', `/v1/identities/${alice}/transfer`, body, { key: 'pay-once' });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.stateId).toBe(first.body.stateId);
    expect(retry.body.resumed).toBe(true);
    expect(await chainIds(b, alice)).toHaveLength(3); // genesis, create, one transfer
    // The same key with another body is refused by the owner, through either node.
    const other = await b.call<Json>(
      'POST',
      `/v1/identities/${alice}/transfer`,
      { ...body, amount: '6' },
      {
        key: 'pay-once',
      },
    );
    expect(other.status).toBe(409);
    expect(other.body.error!.code).toBe('E_CONFLICT');
  });

  it('an identity no core node hosts is 404 through either node, as on a single node', async () => {
    const nobody = 'bafyr4idvypws3lus43rvbnqmkob3twijrxihofastp2eqnmlxns6zcbj2y';
    for (const node of [a, b]) {
      const res = await transfer(node, nobody, { token: nobody, amount: '1', to: nobody });
      expect(res.status).toBe(404);
      expect(res.body.error!.code).toBe('E_NOT_FOUND');
    }
  });
});

describe('two core nodes, one killed', () => {
  let net: Network;
  afterEach(() => net.destroy());

  it('the owner killed: its identities are 503 through the other node (not 404), the other node’s work; restarted, nothing acknowledged is lost', async () => {
    net = await new Network().start({ cores: 2 });
    const [a, b] = net.cores as [CoreProcess, CoreProcess];
    const alice = await create(a, 'alice');
    const erin = await create(a, 'erin'); // never used through B before the kill
    const bob = await create(b, 'bob');
    const aliceToken = await tokenOf(b, alice);
    const bobToken = await tokenOf(b, bob);
    const acknowledged: string[] = [];
    const first = await transfer(b, alice, { token: aliceToken, amount: '10', to: bob });
    expect(first.status).toBe(201);
    acknowledged.push(first.body.stateId as string);

    await a.kill();
    // Known owner (cached) and unknown owner: both 503 naming A, never 404.
    expectUnavailable(await transfer(b, alice, { token: aliceToken, amount: '1', to: bob }), a.p2pAddress);
    expectUnavailable(await transfer(b, erin, { token: aliceToken, amount: '1', to: bob }), a.p2pAddress);
    expectUnavailable(await b.call<Json>('GET', `/v1/identities/${erin}`), a.p2pAddress);
    // A keyed creation whose key names A waits for A; one whose key names B is made on B.
    const keys = Array.from({ length: 12 }, (_, i) => `k-${i}`);
    const created = await Promise.all(
      keys.map((key) => b.call<Json>('POST', '/v1/identities', { label: key, suite: 'ml-dsa-44' }, { key })),
    );
    const waiting = keys.filter((_, i) => created[i]!.status === 503);
    for (const res of created) if (res.status === 503) expectUnavailable(res, a.p2pAddress);
    expect(created.every((r) => r.status === 201 || r.status === 503)).toBe(true);
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.length).toBeLessThan(keys.length);
    // B's own identities keep working, paying A's identities too.
    const paid = await transfer(b, bob, { token: bobToken, amount: '7', to: alice });
    expect(paid.status).toBe(201);
    const listed = (await b.call<Json>('GET', '/v1/identities')).body;
    expect(listed.unreachable).toEqual([a.p2pAddress]);
    expect((listed.identities as { identity: string }[]).map((i) => i.identity)).toContain(bob);

    await a.start();
    const again = await transfer(b, alice, { token: aliceToken, amount: '1', to: bob });
    expect(again.status).toBe(201);
    acknowledged.push(again.body.stateId as string);
    expect((await transfer(b, erin, { token: bobToken, amount: '1', to: bob })).status).toBe(400); // no balance
    for (const key of waiting) {
      const retried = await b.call<Json>(
        'POST',
        '/v1/identities',
        { label: key, suite: 'ml-dsa-44' },
        { key },
      );
      expect(retried.status).toBe(201);
    }
    const chain = await chainIds(b, alice);
    for (const id of acknowledged) expect(chain).toContain(id);
    // Auto-receive on each node for its own identities: alice (on A) gets bob's 7 once A is back.
    await eventually(
      async () => (await balances(b, alice))[bobToken]?.available === '7',
      15_000,
      'alice receives on A',
    );
    await eventually(
      async () => (await balances(a, bob))[aliceToken]?.available === '11',
      15_000,
      'bob receives on B',
    );
  });
});

describe('a core peer that does not answer, or lies', () => {
  let net: Network;
  const proxies: FaultProxy[] = [];
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.stop()));
    await net.destroy();
  });

  it('slow or down → 503 naming it; a liar claiming every identity → the right node still answers, and no loop', async () => {
    net = await new Network().start({ cores: 3, coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    const [a, b, c] = net.cores as [CoreProcess, CoreProcess, CoreProcess];
    // A sees B through a faulty proxy and C through one that says C hosts everything (C's client API is
    // real: its owner check refuses what it does not host). The liar is first in A's list.
    const toB = await new FaultProxy(b.p2pUrl).start();
    const liar = await new FaultProxy(c.p2pUrl).start();
    proxies.push(toB, liar);
    liar.rewrite = (req, answer) =>
      req.path.startsWith('/v1/hosted/') ? { ...(answer as object), hosted: true } : answer;
    a.corePeers = [a.p2pAddress, liar.address, toB.address];
    await a.stop();
    await a.start();

    const bob = await create(b, 'bob');
    const alice = await create(b, 'alice');
    const token = await tokenOf(a, bob);
    const sent = await transfer(a, bob, { token, amount: '4', to: alice });
    expect(sent.status).toBe(201);
    expect(await chainIds(b, bob)).toContain(sent.body.stateId);
    // B is remembered as bob's node (asked no more); the liar's claim is not.
    const asked = () => liar.seen.filter((r) => r.path.startsWith('/v1/hosted/')).length;
    const before = { liar: asked(), b: toB.seen.length };
    expect((await transfer(a, bob, { token, amount: '1', to: alice })).status).toBe(201);
    expect({ liar: asked(), b: toB.seen.length }).toEqual(before);
    const nobody = 'bafyr4idvypws3lus43rvbnqmkob3twijrxihofastp2eqnmlxns6zcbj2y';
    for (let i = 0; i < 2; i++) {
      const res = await transfer(a, nobody, { token, amount: '1', to: alice });
      expect(res.status).toBe(404);
      expect(res.body.error!.code).toBe('E_NOT_FOUND');
    }
    expect(asked()).toBe(before.liar + 2);
    // C answered the relayed requests itself (the owner check) and forwarded none.
    const cForwarded = await forwardedMetrics(c);
    expect(Object.values(cForwarded).reduce((x, y) => x + y, 0)).toBe(0);

    // B down, then slow: an identity of B that A has not used yet (and one nobody hosts) → 503, never 404.
    const carol = await create(b, 'carol');
    toB.down = true;
    expectUnavailable(await transfer(a, carol, { token, amount: '1', to: alice }), toB.address);
    expectUnavailable(await transfer(a, nobody, { token, amount: '1', to: alice }), toB.address);
    toB.down = false;
    toB.delayMs = 3000;
    const started = Date.now();
    expectUnavailable(await a.call<Json>('GET', `/v1/identities/${carol}`), toB.address);
    expect(Date.now() - started).toBeLessThan(2500);
    toB.delayMs = 0;
    const details = await a.call<Json>('GET', `/v1/identities/${carol}`);
    expect(details.status).toBe(200);
    expect(details.body.hosted).toBe(true);
    expect((await forwardedMetrics(a)).unavailable).toBe(3);
  });
});
