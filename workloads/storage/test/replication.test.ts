import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { idOf, type SignedState } from '@dsm/protocol';
import { Cluster, eventually, sleep, type StorageProcess } from '@dsm/testkit';
import { postObject, Wallet } from '@dsm/testkit';

/** Writes `value` to the first node that takes it, trying the others in turn (what a client does). */
async function write(nodes: StorageProcess[], value: unknown, start: number): Promise<string> {
  const errors: string[] = [];
  for (let attempt = 0; attempt < nodes.length * 20; attempt++) {
    const node = nodes[(start + attempt) % nodes.length]!;
    try {
      const ack = await postObject(node.url, value);
      if (ack.status === 200 || ack.status === 201) {
        expect(ack.body.replicas!.length).toBeGreaterThanOrEqual(2);
        return ack.body.id!;
      }
      if (ack.status !== 503) throw new Error(`rejected: ${JSON.stringify(ack.body)}`);
      errors.push(`${node.name}: 503 ${ack.body.error?.message}`);
    } catch (e) {
      if ((e as Error).message.startsWith('rejected')) throw e;
      errors.push(`${node.name}: ${(e as Error).message}`);
    }
    await sleep(50);
  }
  throw new Error(`no node took the write: ${errors.slice(-5).join('; ')}`);
}

/** One writer: a wallet that opens its chain, creates a token and transfers `ops` times. */
async function writer(
  nodes: StorageProcess[],
  seed: number,
  ops: number,
  acked: string[],
  to: Wallet,
): Promise<void> {
  const wallet = new Wallet();
  for (const object of wallet.opening()) acked.push(await write(nodes, object, seed));
  const { objects, tokenId } = wallet.token();
  for (const object of objects) acked.push(await write(nodes, object, seed));
  for (let i = 0; i < ops; i++) {
    const signed: SignedState = wallet.next({
      kind: 'token.transfer',
      token: tokenId,
      amount: '1',
      to: to.identity,
    });
    const id = await write(nodes, signed, seed + i);
    expect(id).toBe(idOf(signed.state).toString());
    acked.push(id);
  }
}

async function holders(nodes: StorageProcess[], id: string): Promise<number> {
  const found = await Promise.all(nodes.map((n) => n.has(id)));
  return found.filter(Boolean).length;
}

async function converged(nodes: StorageProcess[]): Promise<boolean> {
  const statuses = await Promise.all(nodes.map((n) => n.status().catch(() => undefined)));
  return statuses.every(
    (s) => s !== undefined && s.digest === statuses[0]!.digest && s.objects === statuses[0]!.objects,
  );
}

describe('three storage nodes, replication factor 2', () => {
  const cluster = new Cluster();
  let nodes: StorageProcess[];
  const sink = new Wallet();

  beforeAll(async () => {
    nodes = await cluster.create(3);
    await cluster.startAll();
    for (const object of sink.opening()) await write(nodes, object, 0);
  });
  afterAll(() => cluster.destroy());

  it('acknowledges concurrent writers only once two nodes have each write, and all converge', async () => {
    const acked: string[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => writer(nodes, i, 15, acked, sink)));
    expect(acked.length).toBe(4 * (2 + 3 + 15));
    for (const id of acked) expect(await holders(nodes, id)).toBeGreaterThanOrEqual(2);
    await eventually(() => converged(nodes), 20_000, 'digests to converge');
  });

  it('loses no acknowledged write when a node is killed (-9) in the middle of writes', async () => {
    const acked: string[] = [];
    const victim = nodes[1]!;
    const writing = Promise.all([10, 11, 12].map((i) => writer(nodes, i, 25, acked, sink)));
    await sleep(400);
    await victim.kill();
    await writing;
    await victim.start();
    for (const id of acked) expect(await holders(nodes, id)).toBeGreaterThanOrEqual(2);
    await eventually(() => converged(nodes), 30_000, 'digests to converge after restart');
    for (const id of acked) expect(await holders(nodes, id)).toBe(3);
  });

  it('a node stopped for a while catches up by itself', async () => {
    const sleeper = nodes[2]!;
    expect(await sleeper.stop()).toBe(0);
    const acked: string[] = [];
    await writer(nodes.slice(0, 2), 20, 20, acked, sink);
    for (const id of acked) expect(await sleeper.has(id)).toBe(false);
    await sleeper.start();
    await eventually(() => converged(nodes), 20_000, 'the restarted node to catch up');
    for (const id of acked) expect(await sleeper.has(id)).toBe(true);
    const status = await sleeper.status();
    expect(status.peers.every((p) => p.up)).toBe(true);
  });

  it('a node added live with add-peer receives everything', async () => {
    const [fresh] = await cluster.create(1);
    fresh!.peers = [];
    await fresh!.start();
    expect((await fresh!.status()).objects).toBe(0);
    const res = await fresh!.admin('/v1/admin/peers', {
      method: 'POST',
      body: JSON.stringify({ peer: nodes[0]!.address }),
    });
    expect(res.status).toBe(201);
    await eventually(
      async () => (await fresh!.status()).digest === (await nodes[0]!.status()).digest,
      20_000,
      'the new node to receive everything',
    );
    // The peer list survives a restart.
    await fresh!.stop();
    await fresh!.start();
    const peers = (await (await fresh!.admin('/v1/admin/peers')).json()) as { peers: { address: string }[] };
    expect(peers.peers.map((p) => p.address)).toEqual([nodes[0]!.address]);
  });
});
