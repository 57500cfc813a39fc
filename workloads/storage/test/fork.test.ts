import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { idOf, makeNextState } from '@dsm/protocol';
import { Cluster, eventually, type StorageProcess } from '@dsm/testkit';
import { postObject, Wallet } from '@dsm/testkit';

describe('fork across nodes', () => {
  const cluster = new Cluster();
  let nodes: StorageProcess[];

  beforeAll(async () => {
    nodes = await cluster.create(3);
    await cluster.startAll();
  });
  afterAll(() => cluster.destroy());

  it('conflicting states sent to two different nodes are both detected, evidence is served everywhere', async () => {
    const mallory = new Wallet();
    const [a, b, c] = nodes as [StorageProcess, StorageProcess, StorageProcess];
    for (const object of mallory.opening()) expect((await postObject(a.url, object)).status).toBe(201);
    const { objects, tokenId } = mallory.token();
    for (const object of objects) expect((await postObject(a.url, object)).status).toBe(201);
    const base = mallory.head;
    const payVictim1 = mallory.sign(
      makeNextState(
        base,
        { kind: 'token.transfer', token: tokenId, amount: '100', to: new Wallet().identity },
        Date.now(),
      ),
    );
    const payVictim2 = mallory.sign(
      makeNextState(
        base,
        { kind: 'token.transfer', token: tokenId, amount: '100', to: new Wallet().identity },
        Date.now() + 1,
      ),
    );
    const writes = [
      { node: a, state: payVictim1 },
      { node: b, state: payVictim2 },
    ];
    const first = await Promise.all(writes.map((w) => postObject(w.node.url, w.state)));
    // At most one of them can have been acknowledged; the other is a fork. Its node answers 409 once it
    // holds the evidence itself; until then (a peer too slow to show it) the outcome is unknown (503),
    // and the client's retry of the same bytes gets the 409.
    expect(first.filter((r) => r.status === 201).length).toBeLessThanOrEqual(1);
    const settled = await Promise.all(
      writes.map(async (w, i) => {
        let status = first[i]!.status;
        for (let tries = 0; status === 503 && tries < 50; tries++) {
          await new Promise((r) => setTimeout(r, 100));
          status = (await postObject(w.node.url, w.state)).status;
        }
        return status;
      }),
    );
    expect(settled.filter((s) => s === 409).length).toBeGreaterThanOrEqual(1);
    expect(settled.every((s) => s === 201 || s === 409)).toBe(true);
    for (const node of nodes) {
      await eventually(
        async () => {
          const res = (await (await fetch(`${node.url}/v1/identities/${mallory.identity}/forks`)).json()) as {
            forked: boolean;
            evidence: unknown[];
          };
          return res.forked && res.evidence.length >= 1;
        },
        15_000,
        `${node.name} to report the fork`,
      );
    }
    // Later states of the forked identity are refused everywhere: one built on the sibling c accepted
    // (built on the other it would fail the link check first, §4 order).
    const atC = (await (
      await fetch(`${c.url}/v1/identities/${mallory.identity}/states?from=${base.n + 1}&limit=1`)
    ).json()) as { states: { stateId: string }[] };
    const kept = [payVictim1, payVictim2].find((s) => idOf(s.state).toString() === atC.states[0]!.stateId)!;
    const later = mallory.sign(
      makeNextState(kept.state, { kind: 'token.burn', token: tokenId, amount: '1' }, Date.now() + 2),
    );
    const res = await postObject(c.url, later);
    expect(res.status).toBe(409);
    expect(res.body.error!.code).toBe('E_FORK');
    for (const node of nodes) expect((await node.status()).forks).toBe(1);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/^dsm_storage_forks_total 1$/m);
  });

  it('a second receive of the same transfer on a sibling state is a fork with evidence, not a duplicate', async () => {
    const [a, b] = nodes as [StorageProcess, StorageProcess];
    const alice = new Wallet();
    const mallory = new Wallet();
    for (const object of [...alice.opening(), ...mallory.opening()])
      expect((await postObject(a.url, object)).status).toBe(201);
    const { objects, tokenId } = alice.token();
    for (const object of objects) expect((await postObject(a.url, object)).status).toBe(201);
    const sent = alice.next({ kind: 'token.transfer', token: tokenId, amount: '5', to: mallory.identity });
    expect((await postObject(a.url, sent)).status).toBe(201);
    const base = mallory.head;
    const op = {
      kind: 'token.receive' as const,
      token: tokenId,
      amount: '5',
      from: alice.identity,
      transfer: idOf(sent.state),
    };
    const first = mallory.sign(makeNextState(base, op, Date.now()));
    const second = mallory.sign(makeNextState(base, op, Date.now() + 5));
    expect((await postObject(a.url, first)).status).toBe(201);
    const res = await postObject(b.url, second);
    expect(res.status).toBe(409);
    expect(res.body.error!.code).toBe('E_FORK');
    const forks = (await (await fetch(`${b.url}/v1/identities/${mallory.identity}/forks`)).json()) as {
      forked: boolean;
      evidence: unknown[];
    };
    expect(forks).toMatchObject({ forked: true });
    expect(forks.evidence).toHaveLength(1);
  });
});
