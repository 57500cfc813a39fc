import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DsmError, encode, idOf, nodeBackend, type CID, type SignedState } from '@dsm/protocol';
import { Store } from '@dsm/runtime';
import { Feed } from './feed.js';
import { decodeIncoming, Ingest, MISSING_DEPENDENCY, markMissing, type IngestResult } from './ingest.js';
import { Journal, LOG_EVIDENCE, type LogEntry } from './journal.js';
import { Queries, type ForkEvidence } from './queries.js';
import { directoryWorld } from './world-view.js';
import { Signer } from '@dsm/testkit';

const OPTIONS = { backend: nodeBackend, maxObjectBytes: 262_144 };

let dir: string;
const stores: Store[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsm-ingest-'));
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** The parts ingest works with, on a fresh store, wired as the Directory wires them. */
async function parts(name = 'db') {
  const store = await Store.open(join(dir, name));
  stores.push(store);
  const journal = await Journal.open(store);
  const queries = new Queries(store, journal);
  await queries.reloadForks();
  const feed = new Feed(store, journal, queries);
  await feed.load(queries.forkedCount);
  const appended: LogEntry[] = [];
  const forks: ForkEvidence[] = [];
  const ingest = new Ingest(journal, queries, directoryWorld(queries), feed, OPTIONS, {
    onAppend: (entry) => appended.push(entry),
    onFork: (evidence) => forks.push(evidence),
  });
  return { store, journal, queries, feed, ingest, appended, forks };
}

/**
 * A small story: A creates a token and sends 10 to B, B receives it; B then tries to receive it again;
 * A signs a second successor of its create (a fork).
 */
function story() {
  const a = new Signer();
  const b = new Signer();
  const openings = [...a.opening(), ...b.opening()]; // signs state 0: before the wallets advance
  const { objects: tokenObjects, tokenId } = a.token([], 1000n);
  const created = a.head;
  const transfer = a.next({ kind: 'token.transfer', token: tokenId, amount: '10', to: b.identity });
  const receiveOp = {
    kind: 'token.receive',
    token: tokenId,
    amount: '10',
    from: a.identity,
    transfer: idOf(transfer.state),
  } as const;
  const receive = b.next(receiveOp);
  const accepted = [...openings, ...tokenObjects, transfer, receive].map((o) => encode(o));
  const duplicate = b.next(receiveOp);
  a.head = created;
  const fork = a.next({ kind: 'token.burn', token: tokenId, amount: '1' });
  return { a, b, tokenId, transfer, receive, duplicate, fork, accepted };
}

const idOfSigned = (signed: SignedState) => idOf(signed.state).toString();
const text = (id: CID | undefined) => id?.toString();

describe('ingest', () => {
  it('stores a small chain once, rejects a duplicate receive, and keeps a fork as evidence', async () => {
    const { ingest, queries, feed, journal, appended, forks } = await parts();
    const s = story();
    for (const bytes of s.accepted) expect((await ingest.one(bytes)).stored).toBe(true);
    // Idempotent: the same object again is no new write.
    const again = await ingest.one(encode(s.transfer));
    expect(again).toMatchObject({ stored: false, identity: s.a.identity, n: 2 });
    expect(journal.lastSeq).toBe(BigInt(s.accepted.length));
    expect(text((await queries.head(s.b.identity))?.stateId)).toBe(idOfSigned(s.receive));
    expect(text((await queries.transfer(idOf(s.transfer.state)))?.receivedBy)).toBe(idOfSigned(s.receive));

    // Receiving the same transfer twice: verification finds the first receive in the checkpoint.
    await expect(ingest.one(encode(s.duplicate))).rejects.toMatchObject({ code: 'E_DUPLICATE_RECEIVE' });
    expect(text((await queries.head(s.b.identity))?.stateId)).toBe(idOfSigned(s.receive));

    // A second successor of A's create: judged against the same parent, valid, so it is a fork.
    await expect(ingest.one(encode(s.fork))).rejects.toMatchObject({
      code: 'E_FORK',
      details: { existing: idOfSigned(s.transfer) },
    });
    expect(queries.isForked(s.a.identity)).toBe(true);
    expect(queries.isEvidence(idOf(s.fork.state))).toBe(true);
    expect(forks.map((f) => [text(f.identity), f.n, text(f.existing), text(f.candidate)])).toEqual([
      [s.a.identity.toString(), 2, idOfSigned(s.transfer), idOfSigned(s.fork)],
    ]);
    const last = appended.at(-1)!;
    expect([last.kind, text(last.id), last.seq]).toEqual([LOG_EVIDENCE, idOfSigned(s.fork), journal.lastSeq]);
    expect(feed.tallies().forks).toBe(1);
    // The head stays the first successor; the same candidate again is refused at once.
    expect(text((await queries.head(s.a.identity))?.stateId)).toBe(idOfSigned(s.transfer));
    await expect(ingest.one(encode(s.fork))).rejects.toMatchObject({
      code: 'E_FORK',
      message: 'this state is already kept as fork evidence',
    });
    // Every later state of a forked identity is E_FORK.
    s.a.head = s.transfer.state;
    const later = s.a.next({ kind: 'token.burn', token: s.tokenId, amount: '1' });
    await expect(ingest.one(encode(later))).rejects.toMatchObject({ code: 'E_FORK' });
    expect(feed.tallies().forks).toBe(1);
  });

  it('marks what is missing (genesis, predecessor, token) as a missing dependency, not as a bad object', async () => {
    const { ingest } = await parts();
    const w = new Signer();
    const [genesis, s0] = w.opening();
    // A mint of a "token" that is no token definition (it is the genesis).
    const s1 = w.next({ kind: 'token.mint', token: idOf(genesis), amount: '1' });
    const missing = { details: { [MISSING_DEPENDENCY]: true } };
    await expect(ingest.one(encode(s0))).rejects.toMatchObject({ code: 'E_LINK', ...missing });
    await ingest.one(encode(genesis));
    await expect(ingest.one(encode(s1))).rejects.toMatchObject({ code: 'E_LINK', ...missing });
    await ingest.one(encode(s0));
    await expect(ingest.one(encode(s1))).rejects.toMatchObject({ code: 'E_UNKNOWN_TOKEN', ...missing });
    // A bad object is not missing anything.
    expect(markMissing(new DsmError('E_BALANCE', 'x', {}))).toMatchObject({ details: {} });
    expect(markMissing(new DsmError('E_RECEIVE', 'x', { known: false }))).toMatchObject(missing);
    expect(markMissing(new DsmError('E_RECEIVE', 'x', { known: true }))).not.toMatchObject(missing);
  });

  it("a peer's page: one durable batch, rejections inline, the same directory as one object at a time", async () => {
    const one = await parts('one');
    const page = await parts('page');
    const s = story();
    const list = [...s.accepted, encode(s.duplicate), Uint8Array.of(0xa0), encode(s.fork)];
    for (const bytes of list) await one.ingest.one(bytes).catch((e: unknown) => e);
    const rounds = page.store.syncRounds;
    const results = await page.ingest.many(list);
    expect(page.store.syncRounds - rounds).toBe(1);
    const codes = results.map((r) => (r instanceof DsmError ? r.code : (r as IngestResult).stored));
    expect(codes).toEqual([...s.accepted.map(() => true), 'E_DUPLICATE_RECEIVE', 'E_DECODE', 'E_FORK']);
    expect(page.feed.digestSummary()).toEqual(one.feed.digestSummary());
    expect(page.feed.tallies()).toEqual(one.feed.tallies());
    expect(page.journal.lastSeq).toBe(one.journal.lastSeq);
    for (const identity of [s.a.identity, s.b.identity]) {
      const [mine, theirs] = [await page.queries.head(identity), await one.queries.head(identity)];
      expect([text(mine?.stateId), mine?.n]).toEqual([text(theirs?.stateId), theirs?.n]);
    }
    expect(page.queries.forkedIdentities().map(String)).toEqual([s.a.identity.toString()]);
    expect(page.appended.map((e) => e.seq)).toEqual(one.appended.map((e) => e.seq));
  });

  it('decodes strictly once: a state with its id, content with its id, nothing over the limit', () => {
    const w = new Signer();
    const [genesis, s0] = w.opening().map((o) => encode(o));
    const state = decodeIncoming(s0!, OPTIONS.maxObjectBytes);
    expect(state.kind === 'state' && state.stateId.toString()).toBe(idOf(w.head).toString());
    const content = decodeIncoming(genesis!, OPTIONS.maxObjectBytes);
    expect(content.kind === 'content' && content.id.toString()).toBe(w.identity.toString());
    expect(() => decodeIncoming(genesis!, genesis!.length - 1)).toThrow(
      expect.objectContaining({ code: 'E_DECODE', details: expect.objectContaining({ field: '$' }) }),
    );
  });
});
