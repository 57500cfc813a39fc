import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CarBlockIterator } from '@ipld/car/iterator';
import { CarWriter } from '@ipld/car/writer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CAR_MEDIA_TYPE,
  decodeBackupManifest,
  encodeBackupManifest,
  encodeObjectList,
  storageRoutes as R,
  type StorageBackupManifest,
} from '@dsm/api';
import { encode, idOf, idOfBytes, makeNextState, type CID } from '@dsm/protocol';
import { Cluster, eventually, postBytes, postObject, sleep, Wallet, type StorageProcess } from '@dsm/testkit';

interface Block {
  cid: CID;
  bytes: Uint8Array;
}

async function backupOf(node: StorageProcess): Promise<Uint8Array> {
  const res = await node.admin(R.backup.path);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(CAR_MEDIA_TYPE);
  return new Uint8Array(await res.arrayBuffer());
}

async function blocksOf(archive: Uint8Array): Promise<{ roots: CID[]; blocks: Block[] }> {
  const car = await CarBlockIterator.fromBytes(archive);
  const blocks: Block[] = [];
  for await (const block of car) blocks.push(block as Block);
  return { roots: (await car.getRoots()) as CID[], blocks };
}

async function carOf(roots: CID[], blocks: Block[]): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create(roots);
  const parts: Uint8Array[] = [];
  const collecting = (async () => {
    for await (const chunk of out) parts.push(chunk);
  })();
  for (const block of blocks) await writer.put(block);
  await writer.close();
  await collecting;
  return Buffer.concat(parts);
}

interface Answer {
  root?: string;
  counts?: unknown;
  digest?: string;
  error?: { code: string; message: string };
}

async function restore(node: StorageProcess, archive: Uint8Array) {
  const res = await node.admin(R.restore.path, {
    method: 'POST',
    headers: { 'content-type': CAR_MEDIA_TYPE },
    body: archive,
  });
  return { status: res.status, body: (await res.json()) as Answer };
}

async function json(node: StorageProcess, path: string): Promise<unknown> {
  return (await fetch(`${node.url}${path}`)).json();
}

describe('storage backup and restore (CAR archive)', () => {
  const cluster = new Cluster();
  let a: StorageProcess;
  let b: StorageProcess;
  const identities: Wallet[] = [];
  const tokens: string[] = [];
  let forked: Wallet;

  beforeAll(async () => {
    [a, b] = (await cluster.create(2)) as [StorageProcess, StorageProcess];
    await cluster.startAll();
    // A directory with every kind of fact: tokens, transfers, a receive, a mint, a burn, a fork.
    const alice = new Wallet();
    const bob = new Wallet();
    forked = new Wallet();
    identities.push(alice, bob, forked);
    for (const o of [...alice.opening(), ...bob.opening(), ...forked.opening()])
      expect((await postObject(a.url, o)).status).toBe(201);
    const { objects, tokenId } = alice.token();
    tokens.push(tokenId.toString());
    for (const o of objects) expect((await postObject(a.url, o)).status).toBe(201);
    const sent = alice.next({ kind: 'token.transfer', token: tokenId, amount: '25', to: bob.identity });
    expect((await postObject(a.url, sent)).status).toBe(201);
    const receive = bob.next({
      kind: 'token.receive',
      token: tokenId,
      amount: '25',
      from: alice.identity,
      transfer: idOf(sent.state),
    });
    expect((await postObject(a.url, receive)).status).toBe(201);
    expect(
      (await postObject(a.url, alice.next({ kind: 'token.mint', token: tokenId, amount: '7' }))).status,
    ).toBe(201);
    expect(
      (await postObject(a.url, bob.next({ kind: 'token.burn', token: tokenId, amount: '5' }))).status,
    ).toBe(201);
    const own = forked.token();
    tokens.push(own.tokenId.toString());
    for (const o of own.objects) expect((await postObject(a.url, o)).status).toBe(201);
    const base = forked.head;
    const pay = (t: number) =>
      forked.sign(
        makeNextState(
          base,
          { kind: 'token.transfer', token: own.tokenId, amount: '1', to: alice.identity },
          t,
        ),
      );
    expect((await postObject(a.url, pay(Date.now()))).status).toBe(201);
    expect((await postObject(a.url, pay(Date.now() + 3))).status).toBe(409);
    await eventually(
      async () => (await b.status()).digest === (await a.status()).digest,
      20_000,
      'b in sync',
    );
  });
  afterAll(() => cluster.destroy());

  it('restores into an empty node exactly what the backup held, under write load, and the node then catches up', async () => {
    // Writes go on (fresh identities) while the backup streams.
    let writing = true;
    const load = (async () => {
      let written = 0;
      while (writing) {
        const w = new Wallet();
        for (const o of w.opening()) await postObject(a.url, o);
        written++;
      }
      return written;
    })();
    await sleep(200);
    const archive = await backupOf(a);
    writing = false;
    expect(await load).toBeGreaterThan(0);

    const { roots, blocks } = await blocksOf(archive);
    const manifest = decodeBackupManifest(blocks[0]!.bytes);
    expect(roots).toHaveLength(1);
    expect(blocks[0]!.cid.equals(roots[0])).toBe(true);
    expect(manifest).toMatchObject({ format: 'dsm-storage-backup@1', nodeId: a.name });
    expect(manifest.counts).toMatchObject({ evidence: 1, forked: 1, tokens: 2 });
    for (const block of blocks) expect(idOfBytes(block.bytes).equals(block.cid)).toBe(true);
    const facts = manifest.heads.length + manifest.supplies.length + manifest.evidence.length;
    expect(blocks.length).toBe(1 + facts + manifest.counts.objects + manifest.counts.evidence);

    const [c] = await cluster.create(1);
    c!.peers = []; // alone until the restore is done
    await c!.start();
    const restored = await restore(c!, archive);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({
      root: roots[0]!.toString(),
      counts: manifest.counts,
      digest: manifest.digest,
    });
    const status = await c!.status();
    expect(status).toMatchObject({
      objects: manifest.counts.objects + manifest.counts.evidence,
      digest: manifest.digest,
    });
    // What was there before the load reads the same on the restored node as on the original.
    for (const w of identities) {
      expect(await json(c!, `/v1/identities/${w.identity}/head`)).toEqual(
        await json(a, `/v1/identities/${w.identity}/head`),
      );
      expect(await json(c!, `/v1/identities/${w.identity}/inbox`)).toEqual(
        await json(a, `/v1/identities/${w.identity}/inbox`),
      );
    }
    for (const token of tokens)
      expect(await json(c!, `/v1/tokens/${token}`)).toEqual(await json(a, `/v1/tokens/${token}`));
    expect(await json(c!, `/v1/identities/${forked.identity}/forks`)).toEqual(
      await json(a, `/v1/identities/${forked.identity}/forks`),
    );
    // A second restore is refused: the node is no longer empty.
    const again = await restore(c!, archive);
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('E_CONFLICT');
    // Given its peer, it catches up with what was written after the backup.
    const added = await c!.admin('/v1/admin/peers', {
      method: 'POST',
      body: JSON.stringify({ peer: a.address }),
    });
    expect(added.status).toBe(201);
    await eventually(
      async () => (await c!.status()).digest === (await a.status()).digest,
      30_000,
      'c caught up',
    );
  });

  it('refuses an altered, truncated or mislabelled archive whole, leaving the node empty and usable', async () => {
    const archive = await backupOf(b);
    const { roots, blocks } = await blocksOf(archive);
    const manifest = decodeBackupManifest(blocks[0]!.bytes);
    // Both routes take the admin token.
    expect((await fetch(`${b.url}${R.backup.path}`)).status).toBe(401);
    const anonymous = await fetch(`${b.url}${R.restore.path}`, {
      method: 'POST',
      headers: { 'content-type': CAR_MEDIA_TYPE },
      body: archive,
    });
    expect(anonymous.status).toBe(401);
    const objectsFrom = blocks.length - manifest.counts.objects - manifest.counts.evidence;
    const [d] = await cluster.create(1);
    d!.peers = [];
    await d!.start();

    const flipped = Uint8Array.from(archive);
    flipped[flipped.length - 100]! ^= 0x01;
    // An object removed from the middle (the chain after it then lacks its predecessor).
    const removed = await carOf(
      roots,
      blocks.filter((_, i) => i !== objectsFrom + 5),
    );
    // The last object removed: every remaining object verifies, only the manifest's counts tell.
    const lastRemoved = await carOf(roots, blocks.slice(0, -1));
    // A manifest that lies about its counts, relabelled consistently (root and block id).
    const lying: StorageBackupManifest = {
      ...manifest,
      counts: { ...manifest.counts, objects: manifest.counts.objects + 1 },
    };
    const lyingBytes = encodeBackupManifest(lying);
    const lyingArchive = await carOf(
      [idOfBytes(lyingBytes)],
      [{ cid: idOfBytes(lyingBytes), bytes: lyingBytes }, ...blocks.slice(1)],
    );
    // Another node's digest in an otherwise honest manifest.
    const otherDigest = encodeBackupManifest({ ...manifest, digest: '00'.repeat(32) });
    const digestArchive = await carOf(
      [idOfBytes(otherDigest)],
      [{ cid: idOfBytes(otherDigest), bytes: otherDigest }, ...blocks.slice(1)],
    );
    const cases: [string, Uint8Array, RegExp][] = [
      ['one byte changed', flipped, /does not match its id|altered/],
      ['one object removed', removed, /refused|holds/],
      ['the last object removed', lastRemoved, /holds \d+ objects where its manifest says/],
      ['a manifest that lies', lyingArchive, /manifest says/],
      ['a wrong digest', digestArchive, /set digest/],
      ['truncated', archive.subarray(0, archive.length - 700), /truncated|malformed|manifest says/],
      ['not a CAR', new TextEncoder().encode('{"not": "a car"}'), /not a CAR/],
    ];
    for (const [what, bytes, message] of cases) {
      const answer = await restore(d!, bytes);
      expect([what, answer.status, answer.body.error?.code]).toEqual([what, 422, 'E_BACKUP']);
      expect(answer.body.error?.message).toMatch(message);
      const status = await d!.status();
      expect([what, status.objects, status.lastSeq]).toEqual([what, 0, 0]);
    }
    const ok = await restore(d!, archive);
    expect(ok.status).toBe(200);
    expect((await d!.status()).digest).toBe(manifest.digest);
  });

  it('discards a restore cut short by kill -9 at the next start, and restores at start-up from DSM_STORAGE_RESTORE_FROM', async () => {
    // More objects than one ingest batch of a restore (256), so half an archive has loaded some.
    const openings = Array.from({ length: 400 }, () => new Wallet().opening().map((o) => encode(o))).flat();
    for (let at = 0; at < openings.length; at += 200) {
      const ack = await postBytes(b.url, encodeObjectList(openings.slice(at, at + 200)), R.putObjects.path);
      expect(ack.status).toBe(200);
    }
    const archive = await backupOf(b);
    const manifest = decodeBackupManifest((await blocksOf(archive)).blocks[0]!.bytes);
    const [e] = await cluster.create(1);
    e!.peers = [];
    await e!.start();
    // The first half of the archive, then nothing: the node has loaded part of it when it is killed.
    const half = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(archive.subarray(0, archive.length >> 1));
      },
    });
    const loading = fetch(`${e!.url}${R.restore.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${e!.adminToken}`, 'content-type': CAR_MEDIA_TYPE },
      body: half,
      duplex: 'half',
    } as RequestInit).catch(() => undefined);
    await eventually(async () => (await e!.status()).lastSeq > 0, 10_000, 'restore under way');
    await e!.kill();
    await loading;
    await e!.start();
    const after = await e!.status();
    expect([after.objects, after.lastSeq]).toEqual([0, 0]);

    const file = join(cluster.root, 'backup.car');
    writeFileSync(file, archive);
    await e!.kill();
    const [f] = await cluster.create(1, { DSM_STORAGE_RESTORE_FROM: file });
    f!.peers = [];
    await f!.start();
    expect((await f!.status()).digest).toBe(manifest.digest);
    // A restart keeps what it has: the archive is not loaded again.
    await f!.stop();
    await f!.start();
    expect((await f!.status()).digest).toBe(manifest.digest);
  });
});
