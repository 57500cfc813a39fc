import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  DsmError,
  encode,
  idOf,
  makeNextState,
  makePolicy,
  makeToken,
  MemoryLedger,
  nodeBackend,
  signState,
  verifyChain,
  type SignedState,
} from '@dsm/protocol';
import { Actor, nobleBackend, T0 } from './actors.js';

async function rejection(p: Promise<unknown>): Promise<DsmError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DsmError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('a chain using every operation', () => {
  let ledger: MemoryLedger;
  let alice: Actor;
  let bob: Actor;

  beforeEach(async () => {
    ledger = new MemoryLedger(nodeBackend);
    alice = new Actor(ledger, 1);
    bob = new Actor(ledger, 2);
    await alice.start();
    await bob.start();
  });

  it('creates, mints, transfers, receives, locks, unlocks and burns with exact balances', async () => {
    const { tokenId } = await alice.createToken([], 1000n);
    const t = tokenId.toString();
    await alice.act({ kind: 'token.mint', token: tokenId, amount: '500' });
    const sent = await alice.transfer(tokenId, 300n, bob, 'for bob');
    await bob.receive(sent);
    await bob.act({ kind: 'token.lock', token: tokenId, amount: '100', purpose: 'escrow' });
    await bob.act({ kind: 'token.unlock', token: tokenId, amount: '40', purpose: 'escrow' });
    await bob.act({ kind: 'token.burn', token: tokenId, amount: '10' });
    expect(alice.head.balances).toEqual({ [t]: { available: '1200', locked: '0' } });
    expect(bob.head.balances).toEqual({ [t]: { available: '230', locked: '60' } });

    // Anyone can re-verify both chains offline from state 0, with either backend.
    for (const backend of [nobleBackend, nodeBackend]) {
      for (const actor of [alice, bob]) {
        const result = await verifyChain({
          genesis: ledger.genesis(actor.identity)!,
          states: actor.chain.map((s) => encode(s)),
          world: ledger,
          backend,
        });
        expect(result.failure).toBeUndefined();
        expect(result.verified).toBe(actor.chain.length);
      }
    }
  });

  it('resumes from a checkpoint and reports the first failing state and rule', async () => {
    const { tokenId } = await alice.createToken([]);
    for (let i = 0; i < 4; i++) await alice.act({ kind: 'token.mint', token: tokenId, amount: '1' });
    const genesis = ledger.genesis(alice.identity)!;
    const first = await verifyChain({
      genesis,
      states: alice.chain.slice(0, 3),
      world: ledger,
      backend: nodeBackend,
    });
    expect(first.verified).toBe(3);
    const rest = await verifyChain({
      genesis,
      checkpoint: first.checkpoint,
      states: alice.chain.slice(3),
      world: ledger,
      backend: nodeBackend,
    });
    expect(rest.failure).toBeUndefined();
    expect(rest.checkpoint!.issued.get(tokenId.toString())).toBe(1004n);

    const sig = Uint8Array.from(alice.chain[4]!.sig);
    sig[100]! ^= 0xff;
    const tampered = alice.chain.map((s, i) => encode(i === 4 ? { ...s, sig } : s));
    const bad = await verifyChain({ genesis, states: tampered, world: ledger, backend: nodeBackend });
    expect(bad.verified).toBe(4);
    expect(bad.failure).toMatchObject({ index: 4, n: 4, rule: 'V3' });
    expect(bad.failure!.error.code).toBe('E_SIGNATURE');
    expect(bad.checkpoint!.state.n).toBe(3);
  });

  it('accepts hedged node:crypto signatures and deterministic noble ones alike', async () => {
    const carol = new Actor(ledger, 3, 'ml-dsa-65', nodeBackend, false);
    await carol.start();
    const { tokenId } = await carol.createToken([]);
    await carol.transfer(tokenId, 5n, alice);
    expect(carol.chain).toHaveLength(3);
  });
});

describe('one rejection per error code', () => {
  let ledger: MemoryLedger;
  let alice: Actor;
  let bob: Actor;
  let tokenId: ReturnType<typeof idOf>;

  beforeEach(async () => {
    ledger = new MemoryLedger(nodeBackend);
    alice = new Actor(ledger, 11);
    bob = new Actor(ledger, 12);
    await alice.start();
    await bob.start();
    ({ tokenId } = await alice.createToken([], 100n));
  });

  const mint = (amount = '1') => ({ kind: 'token.mint' as const, token: tokenId, amount });
  const resign = (state: SignedState['state']) =>
    signState(nobleBackend, 'ml-dsa-44', alice.keys.secretKey, state, { deterministic: true });

  it('E_DECODE: malformed bytes', async () => {
    const result = await verifyChain({
      genesis: ledger.genesis(alice.identity)!,
      states: [encode(alice.chain[0]), Uint8Array.from([0xa1, 0x00])],
      world: ledger,
      backend: nodeBackend,
    });
    expect(result.failure).toMatchObject({ index: 1, rule: 'decode' });
    expect(result.failure!.error.code).toBe('E_DECODE');
  });

  it('E_LINK: wrong n, wrong prev, foreign identity, bad state 0', async () => {
    const next = alice.build(mint());
    expect((await rejection(ledger.accept(resign({ ...next.state, n: 5 })))).code).toBe('E_LINK');
    expect((await rejection(ledger.accept(resign({ ...next.state, prev: idOf(bob.head) })))).code).toBe(
      'E_LINK',
    );
    const dave = new Actor(ledger, 14);
    const badZero = signState(
      nobleBackend,
      'ml-dsa-44',
      dave.keys.secretKey,
      { ...dave.head, balances: { [tokenId.toString()]: { available: '1', locked: '0' } } },
      { deterministic: true },
    );
    expect((await rejection(ledger.accept(badZero))).code).toBe('E_LINK');
  });

  it('E_ENTROPY', async () => {
    const next = alice.build(mint());
    const e = await rejection(ledger.accept(resign({ ...next.state, entropy: new Uint8Array(32) })));
    expect(e.code).toBe('E_ENTROPY');
    expect(e.details.rule).toBe('V2');
  });

  it('E_SIGNATURE: signed by someone else', async () => {
    const state = alice.build(mint()).state;
    const forged = signState(nobleBackend, 'ml-dsa-44', bob.keys.secretKey, state, { deterministic: true });
    expect((await rejection(ledger.accept(forged))).code).toBe('E_SIGNATURE');
  });

  it('E_CLOCK: time going backwards, and skew only on first acceptance', async () => {
    const back = alice.build(mint(), { t: alice.head.t - 1 });
    expect((await rejection(ledger.accept(back))).code).toBe('E_CLOCK');
    const future = alice.build(mint(), { t: alice.head.t + 60_000 });
    expect((await rejection(ledger.accept(future, { now: alice.head.t }))).code).toBe('E_CLOCK');
    await expect(ledger.accept(future)).resolves.toBeDefined();
  });

  it('E_UNKNOWN_TOKEN: an operation on a token defined but never created, or never defined', async () => {
    const policy = ledger.addPolicy(makePolicy(alice.identity, []));
    const token = makeToken({
      issuer: alice.identity,
      symbol: 'X',
      name: 'X',
      decimals: 0,
      initialSupply: 0n,
      policy,
      nonce: new Uint8Array(32),
    });
    const defined = ledger.addToken(token);
    const e = await rejection(
      ledger.accept(alice.build({ kind: 'token.mint', token: defined, amount: '1' })),
    );
    expect(e.code).toBe('E_UNKNOWN_TOKEN');
    expect(e.details.rule).toBe('resolution');
    const phantom = idOf({ nothing: 'here' });
    expect(
      (await rejection(ledger.accept(alice.build({ kind: 'token.mint', token: phantom, amount: '1' })))).code,
    ).toBe('E_UNKNOWN_TOKEN');
  });

  it('E_POLICY_UNAVAILABLE and E_POLICY for an invalid policy', async () => {
    const missing = new Actor(new MemoryLedger(nodeBackend), 21);
    await missing.start();
    await expect(missing.createToken([])).resolves.toBeDefined();
    // A token whose policy the verifier cannot fetch.
    const ledger2 = new MemoryLedger(nodeBackend);
    const eve = new Actor(ledger2, 22);
    await eve.start();
    const policies = (ledger2 as unknown as { policies: Map<string, unknown> }).policies;
    const original = ledger2.addPolicy.bind(ledger2);
    ledger2.addPolicy = (p) => {
      const id = original(p);
      policies.delete(id.toString());
      return id;
    };
    expect((await rejection(eve.createToken([]))).code).toBe('E_POLICY_UNAVAILABLE');
    const e = await rejection(alice.createToken([{ kind: 'mystery' }]));
    expect(e.code).toBe('E_POLICY');
    expect(e.details).toMatchObject({ rule: 'resolution', kind: 'mystery' });
  });

  it('E_OPERATION: mint outside the issuer chain, create twice, genesis op later', async () => {
    const sent = await alice.transfer(tokenId, 10n, bob);
    await bob.receive(sent);
    expect((await rejection(ledger.accept(bob.build(mint())))).code).toBe('E_OPERATION');
    const token = ledger.tokenDefinition(tokenId)!;
    expect(
      (await rejection(ledger.accept(alice.build({ kind: 'token.create', token: tokenId }, { token })))).code,
    ).toBe('E_OPERATION');
    const genesisOp = makeNextState(alice.head, { kind: 'genesis', genesis: alice.identity }, alice.head.t);
    expect((await rejection(ledger.accept(resign(genesisOp)))).code).toBe('E_OPERATION');
  });

  it('E_RECEIVE and E_DUPLICATE_RECEIVE', async () => {
    const sent = await alice.transfer(tokenId, 10n, bob);
    const wrongAmount = bob.build({
      kind: 'token.receive',
      token: tokenId,
      amount: '11',
      from: alice.identity,
      transfer: idOf(sent.state),
    });
    expect((await rejection(ledger.accept(wrongAmount))).code).toBe('E_RECEIVE');
    const unknown = bob.build({
      kind: 'token.receive',
      token: tokenId,
      amount: '10',
      from: alice.identity,
      transfer: idOf(bob.head),
    });
    expect((await rejection(ledger.accept(unknown))).code).toBe('E_RECEIVE');
    const notForMe = alice.build({
      kind: 'token.receive',
      token: tokenId,
      amount: '10',
      from: alice.identity,
      transfer: idOf(sent.state),
    });
    expect((await rejection(ledger.accept(notForMe))).code).toBe('E_RECEIVE');
    await bob.receive(sent);
    const again = bob.build({
      kind: 'token.receive',
      token: tokenId,
      amount: '10',
      from: alice.identity,
      transfer: idOf(sent.state),
    });
    expect((await rejection(ledger.accept(again))).code).toBe('E_DUPLICATE_RECEIVE');
  });

  it('E_BALANCE: overdraw, and a balance sheet that lies', async () => {
    const op = { kind: 'token.transfer' as const, token: tokenId, amount: '101', to: bob.identity };
    expect(() => alice.build(op)).toThrow(/negative/);
    const honest = alice.build({ ...op, amount: '100' }).state;
    const liar = resign({ ...honest, balances: { [tokenId.toString()]: { available: '1', locked: '0' } } });
    const e = await rejection(ledger.accept(liar));
    expect(e.code).toBe('E_BALANCE');
    expect(e.details.rule).toBe('V5');
    // Overdraw with a forged-but-consistent sheet is caught before the sheet comparison.
    const overdraw = resign({ ...makeNextState(alice.head, { ...op, amount: '100' }, alice.head.t + 1), op });
    expect((await rejection(ledger.accept(overdraw))).code).toBe('E_ENTROPY');
  });

  it('E_POLICY: a failing condition names it', async () => {
    const { tokenId: capped } = await alice.createToken([{ kind: 'supplyCap', max: '150' }], 100n);
    await alice.act({ kind: 'token.mint', token: capped, amount: '50' });
    const e = await rejection(ledger.accept(alice.build({ kind: 'token.mint', token: capped, amount: '1' })));
    expect(e.code).toBe('E_POLICY');
    expect(e.details).toMatchObject({ rule: 'V6', condition: 0, kind: 'supplyCap' });
  });

  it('E_FORK: a second successor is evidence, marks the identity forked, and poisons its transfers', async () => {
    const sent = await alice.transfer(tokenId, 10n, bob);
    const forkBase = alice.chain[alice.chain.length - 2]!.state;
    const sibling = signState(
      nobleBackend,
      'ml-dsa-44',
      alice.keys.secretKey,
      makeNextState(
        forkBase,
        { kind: 'token.transfer', token: tokenId, amount: '10', to: alice.identity },
        forkBase.t + 1000,
      ),
      { deterministic: true },
    );
    const e = await rejection(ledger.accept(sibling));
    expect(e.code).toBe('E_FORK');
    expect(e.details.rule).toBe('V7');
    expect(ledger.isForked(alice.identity)).toBe(true);
    expect(ledger.forks).toHaveLength(1);
    expect((await rejection(ledger.accept(alice.build(mint())))).code).toBe('E_FORK');
    const r = await rejection(bob.receive(sent));
    expect(r.code).toBe('E_FORK');
    expect(r.details.rule).toBe('preconditions');
    // Re-verifying the accepted chain: its states up to the fork were valid when accepted; only a state
    // above the fork height is a "later state of a forked identity".
    const accepted = await verifyChain({
      genesis: ledger.genesis(alice.identity)!,
      states: alice.chain,
      world: ledger,
      backend: nodeBackend,
    });
    expect(accepted.failure).toBeUndefined();
    expect(accepted.verified).toBe(alice.chain.length);
    const later = alice.build(mint());
    const beyond = await verifyChain({
      genesis: ledger.genesis(alice.identity)!,
      states: [...alice.chain, later],
      world: ledger,
      backend: nodeBackend,
    });
    expect(beyond.failure).toMatchObject({ n: later.state.n, rule: 'V7' });
    expect(beyond.failure!.error.code).toBe('E_FORK');
  });

  it('is idempotent for a state already accepted', async () => {
    const signed = alice.chain[1]!;
    await expect(ledger.accept(signed)).resolves.toMatchObject({ stateId: idOf(signed.state) });
    expect(ledger.head(alice.identity)!.state.n).toBe(1);
    expect(T0).toBeGreaterThan(0);
  });
});
