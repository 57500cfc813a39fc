import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  CID,
  decodeSignedState,
  encode,
  idOf,
  idOfBytes,
  makeNextState,
  type SignedState,
} from '@dsm/protocol';
import { Cluster, postObject, Wallet, type StorageProcess } from '@dsm/testkit';
import { fakePeer, readBody, sendEmptyLog, sendJson, type FakePeer } from './fake-peer.js';

function idOfObject(bytes: Uint8Array): string {
  try {
    return decodeSignedState(bytes).stateId.toString();
  } catch {
    return idOfBytes(bytes).toString();
  }
}

function randomId(): string {
  return CID.decode(Uint8Array.from([0x01, 0x71, 0x1e, 0x20, ...randomBytes(32)])).toString();
}

/**
 * A peer that answers pushes with 409 E_FORK (or acknowledges them, by mode) and serves whatever it was
 * pushed, plus one planted object, by id.
 */
class Liar {
  mode: 'fork' | 'ack' | 'evidence' = 'fork';
  planted?: { id: string; bytes: Uint8Array };
  readonly pushed = new Map<string, Uint8Array>();
  private previous = randomId();
  private count = 0;
  peer!: FakePeer;

  async start(): Promise<this> {
    this.peer = await fakePeer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.pathname === '/v1/replica/objects') {
        const bytes = await readBody(req);
        const id = idOfObject(bytes);
        this.pushed.set(id, bytes);
        if (this.mode === 'ack') res.writeHead(204).end();
        else this.fork(res, id);
        this.previous = id;
      } else if (url.pathname.startsWith('/v1/objects/')) {
        const id = url.pathname.slice('/v1/objects/'.length);
        const bytes = this.planted?.id === id ? this.planted.bytes : this.pushed.get(id);
        if (bytes === undefined) sendJson(res, 404, { error: { code: 'E_NOT_FOUND', message: 'no' } });
        else res.writeHead(200, { 'content-type': 'application/vnd.ipld.dag-cbor' }).end(bytes);
      } else if (url.pathname === '/v1/replication/log') sendEmptyLog(res, 'liar');
      else sendJson(res, 404, { error: { code: 'E_NOT_FOUND', message: 'no' } });
    });
    return this;
  }

  /** 409 E_FORK naming, in turn: nothing, an unknown id, the pushed object itself, the previous push. */
  private fork(res: ServerResponse, id: string): void {
    const existing =
      this.mode === 'evidence'
        ? this.planted!.id
        : [undefined, randomId(), id, this.previous][this.count++ % 4];
    sendJson(res, 409, {
      error: {
        code: 'E_FORK',
        message: 'another state at this height is already known: this is a fork',
        details: existing === undefined ? {} : { existing, candidate: id },
      },
    });
  }
}

describe("a peer's E_FORK is a claim, not evidence", () => {
  const cluster = new Cluster();
  let a: StorageProcess;
  let b: StorageProcess;
  let c: StorageProcess;
  let liar: Liar;

  beforeAll(async () => {
    liar = await new Liar().start();
    [a, b, c] = (await cluster.create(3)) as [StorageProcess, StorageProcess, StorageProcess];
    // a: one honest peer and the liar (R = 2 is met by b). c: only the liar.
    a.peers = [b.address, liar.peer.address];
    b.peers = [a.address];
    c.peers = [liar.peer.address];
    await cluster.startAll();
  });
  afterAll(async () => {
    await cluster.destroy();
    await liar.peer.close();
  });

  it('writes that the node and an honest peer hold are acknowledged, and nothing is marked forked', async () => {
    liar.mode = 'fork';
    const wallet = new Wallet();
    const opening = wallet.opening();
    const { objects, tokenId } = wallet.token();
    const writes: unknown[] = [...opening, ...objects];
    for (let i = 0; i < 20; i++)
      writes.push(
        wallet.next({ kind: 'token.transfer', token: tokenId, amount: '1', to: new Wallet().identity }),
      );
    for (const object of writes) {
      const ack = await postObject(a.url, object);
      expect({ status: ack.status, code: ack.body.error?.code }).toEqual({ status: 201, code: undefined });
      expect(ack.body.replicas).toEqual([a.address, b.address]);
    }
    expect(liar.pushed.size).toBeGreaterThanOrEqual(writes.length);
    for (const node of [a, b]) {
      expect(await (await fetch(`${node.url}/v1/forks`)).json()).toEqual({ identities: [] });
      expect((await node.status()).forks).toBe(0);
    }
    expect(a.output).toMatch(/fork without evidence/);
  });

  it('without another holder the lie makes a 503; a conflicting state that verifies makes a 409 with local evidence', async () => {
    liar.mode = 'ack';
    const wallet = new Wallet();
    const opening = wallet.opening();
    const { objects, tokenId } = wallet.token();
    for (const object of [...opening, ...objects]) expect((await postObject(c.url, object)).status).toBe(201);

    liar.mode = 'fork';
    for (let i = 0; i < 4; i++) {
      const ack = await postObject(c.url, wallet.next({ kind: 'token.burn', token: tokenId, amount: '1' }));
      expect({ status: ack.status, code: ack.body.error?.code }).toEqual({
        status: 503,
        code: 'E_UNAVAILABLE',
      });
    }
    expect(await (await fetch(`${c.url}/v1/identities/${wallet.identity}/head`)).json()).toMatchObject({
      n: 5,
      forked: false,
    });

    // A real double spend: the liar holds a valid sibling of the state written to c.
    const base = wallet.head;
    const sibling: SignedState = wallet.sign(
      makeNextState(base, { kind: 'token.burn', token: tokenId, amount: '2' }, Date.now()),
    );
    liar.planted = { id: idOf(sibling.state).toString(), bytes: encode(sibling) };
    liar.mode = 'evidence';
    const written = wallet.sign(
      makeNextState(base, { kind: 'token.burn', token: tokenId, amount: '3' }, Date.now() + 1),
    );
    const ack = await postObject(c.url, written);
    expect({ status: ack.status, code: ack.body.error?.code }).toEqual({ status: 409, code: 'E_FORK' });
    const forks = (await (await fetch(`${c.url}/v1/identities/${wallet.identity}/forks`)).json()) as {
      forked: boolean;
      evidence: { existing: string; candidate: string }[];
    };
    expect(forks.forked).toBe(true);
    expect(forks.evidence).toEqual([
      expect.objectContaining({ existing: idOf(written.state).toString(), candidate: liar.planted.id }),
    ]);
  });
});
