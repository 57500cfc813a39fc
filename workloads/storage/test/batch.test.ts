import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import { encodeObjectList, storageRoutes } from '@dsm/api';
import { encode, idOf, makeNextState } from '@dsm/protocol';
import { Cluster, postBytes, Wallet, type StorageProcess } from '@dsm/testkit';

type Result = {
  id?: string;
  stored?: boolean;
  replicas?: string[];
  n?: number;
  error?: { code: string; message: string; details: Record<string, unknown> };
};

async function postBatch(url: string, list: Uint8Array[]): Promise<{ status: number; results: Result[] }> {
  const ack = await postBytes(url, encodeObjectList(list), storageRoutes.putObjects.path);
  return { status: ack.status, results: (ack.body as { results?: Result[] }).results ?? [] };
}

async function refused(
  url: string,
  body: Uint8Array | string,
  contentType = 'application/vnd.ipld.dag-cbor',
) {
  const res = await fetch(`${url}${storageRoutes.putObjects.path}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  const answer = (await res.json()) as { error: { code: string } };
  return { status: res.status, code: answer.error.code };
}

describe('batch writes (POST /v1/objects/batch), two nodes, R = 2', () => {
  const cluster = new Cluster();
  let a: StorageProcess;
  let b: StorageProcess;

  beforeAll(async () => {
    [a, b] = (await cluster.create(2, { DSM_STORAGE_REPLICATION_FACTOR: '2' })) as [
      StorageProcess,
      StorageProcess,
    ];
    await cluster.startAll();
  });
  afterAll(() => cluster.destroy());

  it('stores a chain in order, every object on both nodes, and answers a retry with stored:false', async () => {
    const alice = new Wallet();
    const sink = new Wallet();
    const opening = alice.opening();
    const { objects, tokenId } = alice.token();
    const list = [...opening, ...objects];
    for (let i = 0; i < 5; i++)
      list.push(alice.next({ kind: 'token.transfer', token: tokenId, amount: '1', to: sink.identity }));
    const bytes = list.map((o) => encode(o));
    const first = await postBatch(a.url, bytes);
    expect(first.status).toBe(200);
    expect(first.results).toHaveLength(bytes.length);
    for (const r of first.results) {
      expect(r.error).toBeUndefined();
      expect(r.stored).toBe(true);
      expect(r.replicas).toEqual([a.address, b.address]);
    }
    const head = (await (await fetch(`${b.url}/v1/identities/${alice.identity}/head`)).json()) as {
      n: number;
    };
    expect(head.n).toBe(alice.head.n);
    const again = await postBatch(b.url, bytes);
    expect(again.results.map((r) => r.stored)).toEqual(bytes.map(() => false));
    expect(again.results.every((r) => r.replicas?.length === 2)).toBe(true);
  });

  it('answers each object on its own: one bad object fails neither its neighbours nor other identities', async () => {
    const alice = new Wallet();
    const bob = new Wallet();
    const opening = [...alice.opening(), ...bob.opening()].map((o) => encode(o));
    expect((await postBatch(a.url, opening)).results.every((r) => r.stored)).toBe(true);
    const { objects, tokenId } = alice.token();
    const tokenObjects = objects.map((o) => encode(o));
    const good = alice.next({ kind: 'token.burn', token: tokenId, amount: '1' });
    const next = makeNextState(alice.head, { kind: 'token.burn', token: tokenId, amount: '1' }, Date.now());
    const forged = { ...alice.sign(next), sig: new Uint8Array(2420).fill(7) };
    const afterForged = alice.sign(
      makeNextState(next, { kind: 'token.burn', token: tokenId, amount: '1' }, Date.now()),
    );
    const bobToken = bob.token().objects.map((o) => encode(o));
    const list = [
      ...bobToken,
      ...tokenObjects,
      encode(good),
      Uint8Array.of(0xff, 0x00),
      encode(forged),
      encode(afterForged),
    ];
    const { status, results } = await postBatch(a.url, list);
    expect(status).toBe(200);
    const outcome = results.map((r) => r.error?.code ?? (r.stored ? 'stored' : 'duplicate'));
    expect(outcome).toEqual([
      ...bobToken.map(() => 'stored'),
      ...tokenObjects.map(() => 'stored'),
      'stored',
      'E_DECODE',
      'E_SIGNATURE',
      'E_LINK',
    ]);
    // The link failure only lacks the state before it: another node might have it.
    expect(results[results.length - 1]!.error!.details.missing).toBe(true);
    // Nothing of the refused objects is stored; the good ones are, on both nodes.
    const head = (await (await fetch(`${b.url}/v1/identities/${alice.identity}/head`)).json()) as {
      stateId: string;
    };
    expect(head.stateId).toBe(idOf(good.state).toString());
    expect((await fetch(`${a.url}/v1/objects/${idOf(forged.state).toString()}`)).status).toBe(404);
  });

  it('keeps a second successor as fork evidence and refuses it with E_FORK, beside accepted writes', async () => {
    const carol = new Wallet();
    const dave = new Wallet();
    const opening = [...carol.opening(), ...dave.opening()].map((o) => encode(o));
    const { tokenId, objects } = carol.token();
    await postBatch(a.url, [...opening, ...objects.map((o) => encode(o))]);
    const burn = (amount: string) =>
      carol.sign(makeNextState(carol.head, { kind: 'token.burn', token: tokenId, amount }, Date.now()));
    const daveObjects = dave.token().objects.map((o) => encode(o));
    const { results } = await postBatch(a.url, [encode(burn('1')), encode(burn('2')), ...daveObjects]);
    expect(results.map((r) => r.error?.code ?? 'stored')).toEqual([
      'stored',
      'E_FORK',
      ...daveObjects.map(() => 'stored'),
    ]);
    const forks = (await (await fetch(`${a.url}/v1/identities/${carol.identity}/forks`)).json()) as {
      forked: boolean;
    };
    expect(forks.forked).toBe(true);
  });

  it('refuses a malformed batch body as a whole, storing nothing', async () => {
    const before = await a.status();
    expect(await refused(a.url, Uint8Array.of(0xff))).toEqual({ status: 400, code: 'E_DECODE' });
    expect(await refused(a.url, dagCbor.encode([]))).toEqual({ status: 400, code: 'E_DECODE' });
    expect(await refused(a.url, dagCbor.encode({ objects: [] }))).toEqual({ status: 400, code: 'E_DECODE' });
    expect(await refused(a.url, dagCbor.encode([encode(new Wallet().genesis), 'text']))).toEqual({
      status: 400,
      code: 'E_DECODE',
    });
    const tooMany = Array.from({ length: 257 }, () => encode(new Wallet().genesis));
    expect(await refused(a.url, encodeObjectList(tooMany))).toEqual({ status: 413, code: 'E_TOO_LARGE' });
    expect(await refused(a.url, '["x"]', 'application/vnd.ipld.dag-json')).toMatchObject({ status: 415 });
    const after = await a.status();
    expect(after.objects).toBe(before.objects);
  });

  it('answers a peer batch push with a result per object', async () => {
    const erin = new Wallet();
    const list = erin.opening().map((o) => encode(o));
    const ack = await postBytes(b.url, encodeObjectList(list), storageRoutes.pushMany.path);
    expect(ack.status).toBe(200);
    expect((ack.body as { results: unknown[] }).results).toEqual([{ held: true }, { held: true }]);
  });
});
