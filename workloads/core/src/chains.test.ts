/**
 * The parts behind Chains (hosted identities, the chain writer, the receiver) on a temporary RocksDB store,
 * against storage nodes in memory: every object they are sent is verified by the protocol's MemoryLedger
 * (as a storage node verifies it, without the clock skew), and they keep the inbox and supply records a
 * storage node keeps. Knobs make them do what real storage nodes do when things go wrong: be down, lose an
 * answer after storing, refuse for good, or answer from before the latest write (a lagging node).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CID,
  decodeObject,
  DsmError,
  encode,
  idOf,
  idOfBytes,
  MemoryLedger,
  nodeBackend,
  overlayWorld,
  PolicyCache,
  type Genesis,
  type State,
} from '@dsm/protocol';
import { Registry, Store } from '@dsm/runtime';
import { HostedIdentities } from './hosted.js';
import { Keystore } from './keystore.js';
import { coreMetrics } from './metrics.js';
import { Receiver, type InboxStorage } from './receiver.js';
import { requestKeyOf } from './request-keys.js';
import type { HeadClaim, InboxEntry, TokenRecord, WriteAck } from './storage-client.js';
import { ChainWriter, type ChainStorage, type ChainWorld } from './writer.js';
import { Signer } from '@dsm/testkit';

const unavailable = () => new DsmError('E_UNAVAILABLE', 'no storage node answered', {});

class MemoryStorage implements ChainStorage, InboxStorage {
  readonly ledger = new MemoryLedger(nodeBackend);
  private readonly inboxes = new Map<string, string[]>();
  private readonly receivedBy = new Map<string, string>();
  private readonly supplies = new Map<string, { issued: bigint; burned: bigint }>();
  /** While set, every call fails as when no storage node answers. */
  down = false;
  /** The next write is stored, but its answer is lost (503). */
  loseNextAnswer = false;
  /** The next write is stored, but the answer is an internal error (a 500, or one that breaks the contract). */
  breakNextAnswer = false;
  /** The next signed state is not stored: no node answers (503). */
  downForNextState = false;
  /** The next write is refused for good with this error, and not stored. */
  refuseNext: DsmError | undefined;
  /** How many transfer lookups still answer from before the latest receive. */
  lagging = 0;
  /** Signed states written (accepted or not), to count attempts. */
  statesSent = 0;

  async put(bytes: Uint8Array): Promise<WriteAck> {
    if (this.down) throw unavailable();
    if (this.refuseNext) {
      const error = this.refuseNext;
      this.refuseNext = undefined;
      throw error;
    }
    const object = decodeObject(bytes);
    if (this.downForNextState && object.type === 'dsm/signed-state@1') {
      this.downForNextState = false;
      throw unavailable();
    }
    let id: CID;
    let stored = true;
    if (object.type === 'dsm/signed-state@1') {
      this.statesSent++;
      id = idOf(object.state);
      stored = this.ledger.signedState(id) === undefined;
      await this.ledger.accept(object);
      if (stored) this.record(object.state, id);
    } else {
      id = idOfBytes(bytes);
      if (object.type === 'dsm/genesis@1') this.ledger.addGenesis(object);
      if (object.type === 'dsm/token@1') this.ledger.addToken(object);
      if (object.type === 'dsm/policy@1') this.ledger.addPolicy(object);
    }
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false;
      throw unavailable();
    }
    if (this.breakNextAnswer) {
      this.breakNextAnswer = false;
      throw new DsmError('E_INTERNAL', 'internal error', {});
    }
    return { id: id.toString(), type: object.type, stored, replicas: ['memory'] };
  }

  private record(state: State, id: CID): void {
    const op = state.op;
    if (op.kind === 'token.transfer') {
      const inbox = this.inboxes.get(op.to.toString()) ?? [];
      this.inboxes.set(op.to.toString(), [...inbox, id.toString()]);
    }
    if (op.kind === 'token.receive') this.receivedBy.set(op.transfer.toString(), id.toString());
    if (op.kind === 'genesis') return;
    const supply = this.supplies.get(op.token.toString()) ?? { issued: 0n, burned: 0n };
    if (op.kind === 'token.create')
      supply.issued = BigInt(this.ledger.tokenDefinition(op.token)!.initialSupply);
    if (op.kind === 'token.mint') supply.issued += BigInt(op.amount);
    if (op.kind === 'token.burn') supply.burned += BigInt(op.amount);
    this.supplies.set(op.token.toString(), supply);
  }

  async head(identity: CID): Promise<HeadClaim | undefined> {
    if (this.down) throw unavailable();
    const head = this.ledger.head(identity);
    if (head === undefined) return undefined;
    return { n: head.state.n, stateId: head.stateId.toString(), forked: this.ledger.isForked(identity) };
  }

  async transfer(transfer: CID): Promise<(InboxEntry & { to: string }) | undefined> {
    if (this.down) throw unavailable();
    const state = this.ledger.acceptedState(transfer);
    if (state?.op.kind !== 'token.transfer') return undefined;
    const receivedBy =
      this.lagging > 0 ? (this.lagging--, undefined) : this.receivedBy.get(transfer.toString());
    return {
      transfer: transfer.toString(),
      seq: 0,
      from: state.identity.toString(),
      to: state.op.to.toString(),
      token: state.op.token.toString(),
      amount: state.op.amount,
      received: receivedBy !== undefined,
      ...(receivedBy !== undefined ? { receivedBy } : {}),
    };
  }

  async inbox(identity: CID, pendingOnly: boolean): Promise<InboxEntry[]> {
    if (this.down) throw unavailable();
    const out: InboxEntry[] = [];
    for (const id of this.inboxes.get(identity.toString()) ?? []) {
      const entry = (await this.transfer(CID.parse(id)))!;
      if (!(pendingOnly && entry.received)) out.push(entry);
    }
    return out;
  }

  async token(token: CID): Promise<TokenRecord | undefined> {
    if (this.down) throw unavailable();
    const creation = this.ledger.tokenCreation(token);
    const supply = this.supplies.get(token.toString());
    return {
      token: token.toString(),
      created: creation !== undefined,
      ...(creation ? { creation: creation.toString() } : {}),
      supply: supply ? { issued: supply.issued.toString(), burned: supply.burned.toString() } : null,
    };
  }
}

let dir: string;
let db: Store;
let storage: MemoryStorage;
let identities: HostedIdentities;
let writer: ChainWriter;
let receiver: Receiver;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsm-chains-'));
  db = await Store.open(join(dir, 'db'));
  storage = new MemoryStorage();
  // What the core node knows of the world: here, all the storage nodes know (the core node's caches).
  const ledger = storage.ledger;
  const world: ChainWorld = Object.assign(overlayWorld(ledger, {}), {
    genesis: async (identity: CID): Promise<Genesis | undefined> => ledger.genesis(identity),
    remember: () => undefined,
  });
  const metrics = coreMetrics(
    new Registry(),
    new PolicyCache({ maxSize: 10, ttlSeconds: 60, now: Date.now }),
  );
  identities = new HostedIdentities(db, new Keystore('a keystore key for tests'), nodeBackend);
  writer = new ChainWriter(db, storage, world, identities, nodeBackend, metrics, { maxClockSkewMs: 30_000 });
  receiver = new Receiver(writer, storage, identities);
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const key = (name: string, body: unknown = {}) => requestKeyOf(name, 'POST', '/v1/test', body)!;
const headOf = (identity: CID) => storage.ledger.head(identity)?.state;

async function hostedIdentity(): Promise<CID> {
  const created = await identities.create({ suite: 'ml-dsa-44', label: 'test' }, writer);
  return CID.parse(created.identity);
}

async function hostedWithToken(): Promise<{ identity: CID; token: CID }> {
  const identity = await hostedIdentity();
  const created = await writer.createToken(identity, {
    symbol: 'TST',
    name: 'Test',
    decimals: 0,
    initialSupply: 1000n,
    conditions: [],
  });
  return { identity, token: CID.parse(created.token!) };
}

const mint =
  (token: CID, amount = '5') =>
  async () => ({ op: { kind: 'token.mint', token, amount } as const });
/** A burn: verifying it reads nothing from storage, so it reaches the write even with the storage nodes down. */
const burn =
  (token: CID, amount = '1') =>
  async () => ({ op: { kind: 'token.burn', token, amount } as const });

describe('hosted identities', () => {
  it('creates an identity durably here, then writes its genesis and state 0 through', async () => {
    const created = await identities.create({ suite: 'ml-dsa-44', label: 'alice' }, writer);
    expect(created).toMatchObject({
      n: 0,
      op: 'genesis',
      suite: 'ml-dsa-44',
      label: 'alice',
      replicas: ['memory'],
    });
    const identity = CID.parse(created.identity);
    expect(await identities.isHosted(identity)).toBe(true);
    expect((await identities.hosted()).map((h) => [h.identity, h.label])).toEqual([
      [created.identity, 'alice'],
    ]);
    expect(headOf(identity)?.n).toBe(0);
    expect(await writer.pendingState(identity)).toBeUndefined();
    expect((await identities.secretsOf(identity)).suite).toBe('ml-dsa-44');
  });

  it('with the storage nodes down: E_UNAVAILABLE, and the identity finishes itself later', async () => {
    storage.down = true;
    await expect(identities.create({ suite: 'ml-dsa-44' }, writer)).rejects.toMatchObject({
      code: 'E_UNAVAILABLE',
    });
    const [record] = await identities.hosted();
    const identity = CID.parse(record!.identity);
    expect(await writer.pendingState(identity)).toBeDefined();
    expect(await writer.finishAllPending()).toBe(0); // still down
    storage.down = false;
    expect(await writer.finishAllPending()).toBe(1);
    expect(headOf(identity)?.n).toBe(0);
    expect(await writer.pendingState(identity)).toBeUndefined();
  });

  it('a state 0 refused for good takes the identity with it, and its request key is without effect', async () => {
    storage.refuseNext = new DsmError('E_DECODE', 'refused', {});
    const request = key('create-1');
    await expect(identities.create({ suite: 'ml-dsa-44' }, writer, request)).rejects.toMatchObject({
      code: 'E_DECODE',
    });
    expect(await identities.hosted()).toEqual([]);
    expect(await writer.replay(request)).toBeUndefined();
    expect((await writer.requests.get(request.key))?.failed).toBe(true);
  });

  it('E_NOT_FOUND for the keys of an identity this node does not host', async () => {
    await expect(identities.secretsOf(new Signer().identity)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe('the chain writer', () => {
  it('acts: signs, verifies and writes the next state; a token is created once per nonce', async () => {
    const { identity, token } = await hostedWithToken();
    const minted = await writer.act(identity, mint(token, '7'));
    expect(minted).toMatchObject({ n: 2, op: 'token.mint', replicas: ['memory'] });
    expect(minted.balances[token.toString()]).toEqual({ available: '1007', locked: '0' });
    expect((await storage.token(token))?.supply).toEqual({ issued: '1007', burned: '0' });
    // Verification happens here, before anything is written: an overdraft is E_BALANCE.
    const sent = storage.statesSent;
    await expect(
      writer.act(identity, async () => ({ op: { kind: 'token.burn', token, amount: '5000' } })),
    ).rejects.toMatchObject({ code: 'E_BALANCE' });
    expect(storage.statesSent).toBe(sent);
    expect(await writer.pendingState(identity)).toBeUndefined();

    const spec = {
      symbol: 'X',
      name: 'X',
      decimals: 0,
      initialSupply: 1n,
      conditions: [],
      nonce: new Uint8Array(32),
    };
    const first = await writer.createToken(identity, spec);
    const again = await writer.createToken(identity, spec);
    expect(again).toMatchObject({
      stateId: first.stateId,
      token: first.token,
      policy: first.policy,
      resumed: true,
    });
  });

  it('a state the storage nodes cannot take stays pending, blocks the identity, and is finished first', async () => {
    const { identity, token } = await hostedWithToken();
    storage.down = true;
    await expect(writer.act(identity, burn(token))).rejects.toMatchObject({ code: 'E_UNAVAILABLE' });
    const pending = await writer.pendingState(identity);
    expect(pending).toBeDefined();
    // Nothing new is signed on top of a pending state while it cannot be finished.
    await expect(writer.act(identity, burn(token))).rejects.toMatchObject({
      code: 'E_UNAVAILABLE',
      details: { pending },
    });
    expect(await writer.pendingState(identity)).toBe(pending);
    storage.down = false;
    const next = await writer.act(identity, mint(token));
    expect(next.n).toBe(3);
    expect(headOf(identity)?.prev?.toString()).toBe(pending);
    expect(await writer.pendingState(identity)).toBeUndefined();
  });

  it('a request whose answer was lost is replayed with the same state, not applied twice', async () => {
    const { identity, token } = await hostedWithToken();
    const request = key('mint-1', { amount: '5' });
    storage.loseNextAnswer = true;
    await expect(writer.act(identity, mint(token), request)).rejects.toMatchObject({ code: 'E_UNAVAILABLE' });
    const replayed = await writer.replay(request);
    expect(replayed).toMatchObject({ status: 201, body: { n: 2, op: 'token.mint', resumed: true } });
    expect((replayed!.body as { stateId: string }).stateId).toBe(idOf(headOf(identity)!).toString());
    expect((await storage.token(token))?.supply?.issued).toBe('1005');
    expect(await writer.replay(key('mint-2'))).toBeUndefined(); // a new key must run
    await expect(writer.replay(key('mint-1', { amount: '6' }))).rejects.toMatchObject({ code: 'E_CONFLICT' });
  });

  it('an internal error after the write leaves the outcome unknown: the state stays pending, the retry answers it', async () => {
    const { identity, token } = await hostedWithToken();
    const request = key('mint-500', { amount: '5' });
    storage.breakNextAnswer = true;
    await expect(writer.act(identity, mint(token), request)).rejects.toMatchObject({ code: 'E_INTERNAL' });
    expect(await writer.pendingState(identity)).toBeDefined();
    expect((await writer.requests.get(request.key))?.failed).toBeUndefined();
    const replayed = await writer.replay(request);
    expect(replayed).toMatchObject({ status: 201, body: { n: 2, op: 'token.mint', resumed: true } });
    expect((await storage.token(token))?.supply?.issued).toBe('1005');
  });

  it('a token create retried with its nonce after a 503 answers the create, not a second one', async () => {
    const { identity } = await hostedWithToken();
    const spec = {
      symbol: 'N',
      name: 'N',
      decimals: 0,
      initialSupply: 3n,
      conditions: [],
      nonce: new Uint8Array(32).fill(9),
    };
    storage.downForNextState = true; // policy and token stored, the create left pending
    await expect(writer.createToken(identity, spec)).rejects.toMatchObject({ code: 'E_UNAVAILABLE' });
    const again = await writer.createToken(identity, spec);
    expect(again).toMatchObject({ op: 'token.create', resumed: true });
    expect(headOf(identity)?.op.kind).toBe('token.create');
  });

  it('a pending state refused for good is dropped and its key marked failed: a retry acts afresh', async () => {
    const { identity, token } = await hostedWithToken();
    const request = key('burn-1');
    storage.down = true;
    await expect(writer.act(identity, burn(token), request)).rejects.toMatchObject({ code: 'E_UNAVAILABLE' });
    storage.down = false;
    storage.refuseNext = new DsmError('E_POLICY', 'refused', {});
    expect(await writer.replay(request)).toBeUndefined();
    expect((await writer.requests.get(request.key))?.failed).toBe(true);
    expect(await writer.pendingState(identity)).toBeUndefined();
    expect((await writer.act(identity, mint(token), request)).n).toBe(2);
  });

  it("accepts client-signed states: once, again as the same answer, and a fork is the storage nodes' E_FORK", async () => {
    const wallet = new Signer();
    for (const object of wallet.opening()) await storage.put(encode(object));
    const s0 = wallet.head;
    const { objects, tokenId } = wallet.token();
    for (const object of objects.slice(0, 2)) await storage.put(encode(object));
    const create = objects[2] as { state: State };
    const accepted = await writer.submit(encode(create));
    expect(accepted).toMatchObject({ n: 1, op: 'token.create', replicas: ['memory'] });
    expect(await writer.submit(encode(create))).toMatchObject({ stateId: accepted.stateId, resumed: true });
    // A second successor of state 0 (another token's create): the storage nodes judge it against state 0,
    // keep it as evidence and refuse it with E_FORK.
    wallet.head = s0;
    const other = wallet.token();
    for (const object of other.objects.slice(0, 2)) await storage.put(encode(object));
    await expect(writer.submit(encode(other.objects[2]))).rejects.toMatchObject({ code: 'E_FORK' });
    expect(storage.ledger.isForked(wallet.identity)).toBe(true);
    // One head read answers the fork question for the next state: refused before it is written.
    const sent = storage.statesSent;
    wallet.head = create.state;
    const next = wallet.next({ kind: 'token.burn', token: tokenId, amount: '1' });
    await expect(writer.submit(encode(next))).rejects.toMatchObject({
      code: 'E_FORK',
      details: { rule: 'V7' },
    });
    expect(storage.statesSent).toBe(sent);
  });
});

describe('the receiver', () => {
  async function transferTo(recipient: CID, amount = '10') {
    const sender = await hostedWithToken();
    const sent = await writer.act(sender.identity, async () => ({
      op: { kind: 'token.transfer', token: sender.token, amount, to: recipient },
    }));
    return { ...sender, transfer: CID.parse(sent.stateId) };
  }

  it('receives a transfer once; asked again it answers with the receive that happened', async () => {
    const recipient = await hostedIdentity();
    const { transfer, token } = await transferTo(recipient);
    const [first, second] = await Promise.all([
      receiver.receive(recipient, transfer),
      receiver.receive(recipient, transfer),
    ]);
    expect(first).toMatchObject({ n: 1, op: 'token.receive' });
    expect(first.balances[token.toString()]).toEqual({ available: '10', locked: '0' });
    expect(second).toMatchObject({ stateId: first.stateId, n: 1, alreadyReceived: true });
    expect(headOf(recipient)?.n).toBe(1);
  });

  it('a duplicate found only when written (a lagging lookup) answers with the receive that happened', async () => {
    const recipient = await hostedIdentity();
    const { transfer } = await transferTo(recipient);
    const first = await receiver.receive(recipient, transfer);
    storage.lagging = 1; // the receive's lookup (which verification reuses) misses the first receive
    const again = await receiver.receive(recipient, transfer);
    expect(again).toMatchObject({ stateId: first.stateId, alreadyReceived: true });
    expect(headOf(recipient)?.n).toBe(1);
    expect(await writer.pendingState(recipient)).toBeUndefined();
  });

  it('refuses a transfer addressed to another identity', async () => {
    const recipient = await hostedIdentity();
    const other = await hostedIdentity();
    const { transfer } = await transferTo(other);
    await expect(receiver.receive(recipient, transfer)).rejects.toMatchObject({ code: 'E_RECEIVE' });
  });

  it('receives every pending transfer of every hosted identity, and stops retrying those refused for good', async () => {
    const alice = await hostedIdentity();
    const bob = await hostedIdentity();
    await transferTo(alice);
    await transferTo(bob);
    // A self-custody sender that forks after sending to alice: its transfer is refused for good (E_FORK).
    const mallory = new Signer();
    for (const object of mallory.opening()) await storage.put(encode(object));
    const { objects, tokenId } = mallory.token();
    for (const object of objects) await storage.put(encode(object));
    const created = mallory.head;
    const forked = await writer.submit(
      encode(mallory.next({ kind: 'token.transfer', token: tokenId, amount: '1', to: alice })),
    );
    mallory.head = created;
    const sibling = mallory.next({ kind: 'token.burn', token: tokenId, amount: '1' });
    await expect(storage.put(encode(sibling))).rejects.toMatchObject({ code: 'E_FORK' });

    expect(await receiver.receiveAll()).toBe(2);
    expect((await storage.inbox(alice, true)).map((e) => e.transfer)).toEqual([forked.stateId]);
    const sent = storage.statesSent;
    expect(await receiver.receiveAll()).toBe(0);
    expect(storage.statesSent).toBe(sent); // no new attempt at the refused one
    await expect(receiver.receive(alice, CID.parse(forked.stateId))).rejects.toMatchObject({
      code: 'E_FORK',
    });
  });

  it('a 503 ends the round; the next round finishes what it left pending', async () => {
    const alice = await hostedIdentity();
    await transferTo(alice);
    await transferTo(alice);
    storage.down = true;
    await expect(receiver.receiveAll()).rejects.toMatchObject({ code: 'E_UNAVAILABLE' }); // no inbox to read
    storage.down = false;
    storage.loseNextAnswer = true; // the first receive is stored, its answer lost
    expect(await receiver.receiveAll()).toBe(0);
    expect(await writer.pendingState(alice)).toBeDefined();
    expect(await receiver.receiveAll()).toBe(1);
    expect(headOf(alice)?.n).toBe(2);
    expect(await storage.inbox(alice, true)).toEqual([]);
    expect(await writer.pendingState(alice)).toBeUndefined();
  });
});
