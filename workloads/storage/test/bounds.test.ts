import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { CID, idOf } from '@dsm/protocol';
import { Cluster, postObject, Wallet, type StorageProcess } from '@dsm/testkit';
import {
  fakePeer,
  openFds,
  rssMiB,
  sampleMax,
  sendEmptyLog,
  sendJson,
  streamJunk,
  type FakePeer,
} from './fake-peer.js';

const MiB = 1024 * 1024;
const notFound = (res: ServerResponse) =>
  sendJson(res, 404, { error: { code: 'E_NOT_FOUND', message: 'no' } });

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A wallet with its chain and a token on `node`, ready to transfer. */
async function funded(node: StorageProcess): Promise<{ wallet: Wallet; transfer: () => unknown }> {
  const wallet = new Wallet();
  const opening = wallet.opening();
  const { objects, tokenId } = wallet.token();
  for (const object of [...opening, ...objects])
    expect((await postObject(node.url, object)).status).toBe(201);
  const sink = new Wallet().identity;
  return {
    wallet,
    transfer: () => wallet.next({ kind: 'token.transfer', token: tokenId, amount: '1', to: sink }),
  };
}

/** The ids of one bucket a flooding peer claims to hold: `count` valid ids whose first digest byte is `bucket`. */
function bucketListing(bucket: number, count: number): string {
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push(CID.decode(Uint8Array.from([0x01, 0x71, 0x1e, 0x20, bucket, ...randomBytes(31)])).toString());
  return JSON.stringify(ids);
}

describe('peers flooding a node', () => {
  const cluster = new Cluster();
  let a: StorageProcess;
  const hostile: FakePeer[] = [];
  const listings = new Map<number, string>();

  beforeAll(async () => {
    // A log page of 256 MiB.
    const hugeLog = await fakePeer(async (req, res) => {
      if (req.url?.startsWith('/v1/replication/log'))
        await streamJunk(res, 256 * MiB, 'application/vnd.ipld.dag-cbor');
      else notFound(res);
    });
    // Every bucket differs, each lists 20,000 ids; the objects are 64 MiB of junk or absent.
    const mismatch = await fakePeer(async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v1/replication/log') sendEmptyLog(res, 'mismatch');
      else if (url.pathname === '/v1/replication/digest') {
        const xor = () => randomBytes(32).toString('hex');
        sendJson(res, 200, {
          count: 256 * 20_000,
          fingerprint: xor(),
          buckets: Array.from({ length: 256 }, () => ({ count: 20_000, xor: xor() })),
        });
      } else if (url.pathname.startsWith('/v1/replication/buckets/')) {
        const bucket = Number(url.pathname.split('/').pop());
        if (!listings.has(bucket)) listings.set(bucket, bucketListing(bucket, 20_000));
        res.writeHead(200, { 'content-type': 'application/json' }).end(listings.get(bucket));
      } else if (url.pathname.startsWith('/v1/objects/')) {
        if (url.pathname.charCodeAt(url.pathname.length - 1) % 2 === 0)
          await streamJunk(res, 64 * MiB, 'application/vnd.ipld.dag-cbor');
        else notFound(res);
      } else notFound(res);
    });
    // A digest of the wrong shape.
    const malformed = await fakePeer((req, res) => {
      if (req.url?.startsWith('/v1/replication/log')) sendEmptyLog(res, 'malformed');
      else if (req.url?.startsWith('/v1/replication/digest'))
        sendJson(res, 200, { count: 1, fingerprint: 'zz', buckets: [{ count: -1, xor: 7 }] });
      else notFound(res);
    });
    hostile.push(hugeLog, mismatch, malformed);
    [a] = (await cluster.create(2)) as [StorageProcess, StorageProcess];
    await cluster.startAll();
  });
  afterAll(async () => {
    await cluster.destroy();
    await Promise.all(hostile.map((h) => h.close()));
  });

  /** Writes for `ms`, sampling the node's RSS; returns the peak RSS and the write latencies. */
  async function writeFor(
    ms: number,
    transfer: () => unknown,
  ): Promise<{ peak: number; latencies: number[] }> {
    const rss = sampleMax(() => rssMiB(a));
    const latencies: number[] = [];
    for (const until = Date.now() + ms; Date.now() < until;) {
      const started = performance.now();
      const ack = await postObject(a.url, transfer());
      latencies.push(performance.now() - started);
      expect(ack.status).toBe(201);
    }
    return { peak: rss.stop(), latencies };
  }

  it('costs bounded memory, writes stay fast, and each flooding peer is logged as misbehaving', async () => {
    const { transfer } = await funded(a);
    // The same writes with only the honest peer first: what the node's memory grows to anyway.
    const control = await writeFor(8000, transfer);
    for (const peer of hostile)
      expect(
        (await a.admin('/v1/admin/peers', { method: 'POST', body: JSON.stringify({ peer: peer.address }) }))
          .status,
      ).toBe(201);
    const { peak, latencies } = await writeFor(10_000, transfer);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `flood: RSS peak ${control.peak.toFixed(0)} MiB with the honest peer only, ${peak.toFixed(0)} MiB with ` +
        `three flooding peers; ${latencies.length} writes, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ` +
        `max ${Math.max(...latencies).toFixed(1)} ms (${percentile(control.latencies, 50).toFixed(1)} ms p50 before)`,
    );
    expect(peak - control.peak).toBeLessThan(200);
    expect(p50).toBeLessThan(100);
    expect(p99).toBeLessThan(1000);
    for (const peer of hostile)
      expect(a.output).toMatch(new RegExp(`"peer":"${peer.address}"[^\\n]*"msg":"peer misbehaving"`));
  }, 60_000);
});

describe('a peer that never answers', () => {
  const cluster = new Cluster();
  let a: StorageProcess;
  let hanging: FakePeer;

  beforeAll(async () => {
    hanging = await fakePeer(() => new Promise<void>(() => undefined));
    const [node, honest] = (await cluster.create(2)) as [StorageProcess, StorageProcess];
    a = node;
    a.peers = [honest.address, hanging.address];
    await cluster.startAll();
  });
  afterAll(async () => {
    await cluster.destroy();
    await hanging.close();
  });

  it('holds a bounded number of sockets while 300 writes are acknowledged by the honest peer', async () => {
    const writers = await Promise.all(Array.from({ length: 10 }, () => funded(a)));
    const before = openFds(a);
    const fds = sampleMax(() => openFds(a), 50);
    await Promise.all(
      writers.map(async ({ transfer }) => {
        for (let i = 0; i < 30; i++) expect((await postObject(a.url, transfer())).status).toBe(201);
      }),
    );
    const peak = fds.stop();
    console.log(`hanging peer: open fds ${before} before, peak ${peak} during 300 writes`);
    expect(peak).toBeLessThan(150);
  });
});

describe('replication log pages', () => {
  const cluster = new Cluster();
  let a: StorageProcess;

  beforeAll(async () => {
    [a] = (await cluster.create(2)) as [StorageProcess, StorageProcess];
    await cluster.startAll();
  });
  afterAll(() => cluster.destroy());

  it('are bounded in bytes as well as in entries, at least one entry each', async () => {
    const big: string[] = [];
    for (let i = 0; i < 30; i++) {
      const genesis = { ...new Wallet().genesis, label: 'x'.repeat(200_000) };
      expect((await postObject(a.url, genesis)).status).toBe(201);
      big.push(idOf(genesis).toString());
    }
    const seen = new Set<string>();
    const sizes: number[] = [];
    let after = 0;
    for (;;) {
      const res = await fetch(`${a.url}/v1/replication/log?after=${after}&limit=10000`);
      expect(res.status).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const page = dagCbor.decode(bytes) as { entries: { seq: number; bytes: Uint8Array }[] };
      if (page.entries.length === 0) break;
      sizes.push(bytes.length);
      for (const entry of page.entries) seen.add(idOf(dagCbor.decode(entry.bytes)).toString());
      after = page.entries[page.entries.length - 1]!.seq;
    }
    console.log(
      `log pages over 30 objects of 200 kB: ${sizes.map((s) => (s / MiB).toFixed(2)).join(', ')} MiB`,
    );
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThan(4 * MiB + 300 * 1024);
    for (const id of big) expect(seen.has(id)).toBe(true);
  });
});
