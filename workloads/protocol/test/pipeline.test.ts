/**
 * Chain verification is pipelined (states read, decoded and their signature checks issued far ahead of the
 * ordered checks of §4): the outcome must be exactly that of checking one state at a time.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { CID } from 'multiformats/cid';
import {
  decodeSignedState,
  encode,
  idOf,
  makeGenesis,
  makeGenesisState,
  makeNextState,
  makePolicy,
  makeToken,
  MemoryLedger,
  nodeBackend,
  signState,
  SUITE_SIZES,
  toHex,
  verifyChain,
  type ChainResult,
  type ChainToVerify,
  type CryptoBackend,
  type Genesis,
  type Operation,
  type SignedState,
  type State,
} from '@dsm/protocol';
import { Actor } from './actors.js';

/** What a run decided, in comparable form. */
function outcome(result: ChainResult) {
  return {
    verified: result.verified,
    head: result.checkpoint?.state.n ?? null,
    headId: result.checkpoint?.stateId.toString() ?? null,
    failure: result.failure && {
      index: result.failure.index,
      n: result.failure.n,
      rule: result.failure.rule,
      code: result.failure.error.code,
      message: result.failure.error.message,
      details: result.failure.error.details,
    },
  };
}

/**
 * The reference: a source that hands over state i only once i states have been accepted, so nothing is read,
 * decoded or signature-checked ahead of the checks.
 */
async function oneAtATime(input: Omit<ChainToVerify, 'states'>, states: Uint8Array[]): Promise<ChainResult> {
  let accepted = 0;
  let wake: (() => void) | undefined;
  async function* source() {
    for (let i = 0; i < states.length; i++) {
      while (accepted < i) await new Promise<void>((resolve) => (wake = resolve));
      yield states[i]!;
    }
  }
  return verifyChain({
    ...input,
    states: source(),
    onProgress: (verified) => {
      accepted = verified;
      wake?.();
    },
  });
}

describe('pipelined chain verification reports what one-at-a-time verification reports', () => {
  const ledger = new MemoryLedger(nodeBackend);
  const alice = new Actor(ledger, 71, 'ml-dsa-44', nodeBackend, false);
  const bob = new Actor(ledger, 72, 'ml-dsa-44', nodeBackend, false);
  let genesis: Genesis;
  let chain: Uint8Array[];
  let tokenId: CID;

  beforeAll(async () => {
    await alice.start();
    await bob.start();
    ({ tokenId } = await alice.createToken([{ kind: 'amountLimit', op: 'token.transfer', max: '50' }], 500n));
    await alice.act({ kind: 'token.mint', token: tokenId, amount: '20' });
    await alice.transfer(tokenId, 7n, bob, 'to bob');
    const self = await alice.transfer(tokenId, 5n, alice);
    await alice.receive(self); // resolved from the run's own transfers
    await alice.act({ kind: 'token.lock', token: tokenId, amount: '4', purpose: 'escrow' });
    await alice.act({ kind: 'token.unlock', token: tokenId, amount: '3', purpose: 'escrow' });
    await alice.act({ kind: 'token.burn', token: tokenId, amount: '2' });
    for (let i = 0; i < 4; i++) await alice.act({ kind: 'token.mint', token: tokenId, amount: '1' });
    genesis = ledger.genesis(alice.identity)!;
    chain = alice.chain.map((s) => encode(s));
  });

  const flipSig = (i: number) => {
    const s = alice.chain[i]!;
    const sig = Uint8Array.from(s.sig);
    sig[50]! ^= 0x01;
    return encode({ ...s, sig });
  };
  const garbage = () => Uint8Array.from([0xa1, 0x00]);
  /** State i with changed content, signed again with the right key: only a later check can fail it. */
  const resigned = (i: number, change: (s: State) => State) =>
    encode(signState(nodeBackend, 'ml-dsa-44', alice.keys.secretKey, change(alice.chain[i]!.state)));
  const over = (i: number, ...edits: [number, Uint8Array][]) => {
    const states = [...chain];
    for (const [at, bytes] of edits) states[at] = bytes;
    return states.slice(0, i);
  };

  async function expectSame(states: Uint8Array[]) {
    const input = { genesis, world: ledger, backend: nodeBackend };
    const pipelined = outcome(await verifyChain({ ...input, states }));
    expect(pipelined).toEqual(outcome(await oneAtATime(input, states)));
    return pipelined;
  }

  it('accepts the whole chain', async () => {
    const result = await expectSame(chain);
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(chain.length);
  });

  it('reports a bad signature at state k as V3 of state k, whatever follows', async () => {
    for (let k = 0; k < chain.length; k++) {
      const result = await expectSame(over(chain.length, [k, flipSig(k)]));
      expect(result.failure).toMatchObject({ index: k, n: k, rule: 'V3', code: 'E_SIGNATURE' });
      expect(result.verified).toBe(k);
      // A later decode failure or bad signature does not change it.
      if (k + 1 < chain.length) {
        expect(await expectSame(over(chain.length, [k, flipSig(k)], [k + 1, garbage()]))).toEqual(result);
        expect(await expectSame(over(chain.length, [k, flipSig(k)], [k + 1, flipSig(k + 1)]))).toEqual(
          result,
        );
      }
    }
  });

  it('reports the earlier of a decode failure and a bad signature', async () => {
    for (let k = 0; k + 1 < chain.length; k++) {
      const result = await expectSame(over(chain.length, [k, garbage()], [k + 1, flipSig(k + 1)]));
      expect(result.failure).toMatchObject({ index: k, rule: 'decode', code: 'E_DECODE' });
    }
  });

  it('runs the checks of a state in their order: link, entropy, signature, clock, balances', async () => {
    const k = 5;
    const cases: [Uint8Array, string][] = [
      [resigned(k, (s) => ({ ...s, n: s.n + 1 })), 'V1'],
      [resigned(k, (s) => ({ ...s, entropy: new Uint8Array(32) })), 'V2'],
      [encode({ ...alice.chain[k]!, state: { ...alice.chain[k]!.state, t: 1 } }), 'V3'],
      [resigned(k, (s) => ({ ...s, t: 1 })), 'V4'],
      [resigned(k, (s) => ({ ...s, balances: {} })), 'V5'],
    ];
    for (const [bytes, rule] of cases) {
      const result = await expectSame(over(chain.length, [k, bytes]));
      expect(result.failure).toMatchObject({ index: k, rule });
    }
    // A bad signature after an earlier failing state does not matter.
    const result = await expectSame(over(chain.length, [k - 2, cases[3]![0]], [k - 1, flipSig(k - 1)]));
    expect(result.failure).toBeDefined();
    expect(result.failure!.index).toBe(k - 2);
  });

  it('resumes from a checkpoint with the same outcome', async () => {
    const first = await verifyChain({
      genesis,
      states: chain.slice(0, 4),
      world: ledger,
      backend: nodeBackend,
    });
    const input = { genesis, checkpoint: first.checkpoint, world: ledger, backend: nodeBackend };
    const rest = [...chain.slice(4, 8), flipSig(8)];
    const pipelined = outcome(await verifyChain({ ...input, states: rest }));
    expect(pipelined).toEqual(outcome(await oneAtATime(input, rest)));
    expect(pipelined.failure).toMatchObject({ index: 4, n: 8, rule: 'V3' });
  });

  it('leaves already decoded states passed by the caller as they are', async () => {
    const decoded = chain.map((bytes) => decodeSignedState(bytes).signed);
    const identities = decoded.map((s) => s.state.identity);
    const tokens = decoded.map((s) => (s.state.op.kind === 'genesis' ? undefined : s.state.op.token));
    const before = decoded.map((s) => toHex(encode(s)));
    const result = await verifyChain({ genesis, states: decoded, world: ledger, backend: nodeBackend });
    expect(result.verified).toBe(chain.length);
    decoded.forEach((s, i) => {
      expect(s.state.identity).toBe(identities[i]);
      if (s.state.op.kind !== 'genesis') expect(s.state.op.token).toBe(tokens[i]);
      expect(toHex(encode(s))).toBe(before[i]);
    });
  });
});

/**
 * A backend whose signatures are placeholders and whose verdicts the test decides, answered asynchronously
 * like the thread pool's: long chains without the cost of real signatures.
 */
function scriptedBackend(
  verdict: (message: Uint8Array) => boolean | Promise<boolean>,
  /** How long a check takes, in ms; by default it is answered on the next turn of the event loop. */
  latency?: number,
) {
  const stats = { inFlight: 0, maxInFlight: 0, calls: 0 };
  const backend: CryptoBackend = {
    ...nodeBackend,
    name: 'scripted',
    sign: (suite) => new Uint8Array(SUITE_SIZES[suite].signature),
    verify: () => {
      throw new Error('chain verification checks state signatures asynchronously');
    },
    verifyAsync: async (_suite, _key, message) => {
      stats.calls++;
      stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
      await new Promise((resolve) =>
        latency === undefined ? setImmediate(resolve) : setTimeout(resolve, latency),
      );
      try {
        return await verdict(message);
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { backend, stats };
}

/** A chain of `length` states (create, then mint, lock, unlock, burn) signed by `backend`. */
function longChain(backend: CryptoBackend, length: number) {
  const keys = nodeBackend.keygen('ml-dsa-44');
  const ledger = new MemoryLedger(backend);
  const genesis = makeGenesis({
    suite: 'ml-dsa-44',
    publicKey: keys.publicKey,
    kemPublicKey: nodeBackend.kemKeygen().publicKey,
    nonce: new Uint8Array(32).fill(9),
  });
  const identity = ledger.addGenesis(genesis);
  const token = makeToken({
    issuer: identity,
    symbol: 'L',
    name: 'Long',
    decimals: 0,
    initialSupply: 1000n,
    policy: ledger.addPolicy(makePolicy(identity, [])),
    nonce: new Uint8Array(32),
  });
  const tokenId = ledger.addToken(token);
  // Indexed by height modulo 4, from height 2: mint, lock, unlock, burn.
  const cycle: Operation[] = [
    { kind: 'token.unlock', token: tokenId, amount: '1', purpose: 'p' },
    { kind: 'token.burn', token: tokenId, amount: '1' },
    { kind: 'token.mint', token: tokenId, amount: '3' },
    { kind: 'token.lock', token: tokenId, amount: '2', purpose: 'p' },
  ];
  let state: State = makeGenesisState(identity, 1_700_000_000_000);
  const states: State[] = [state];
  state = makeNextState(state, { kind: 'token.create', token: tokenId }, state.t + 1, token);
  states.push(state);
  while (states.length < length) {
    state = makeNextState(state, cycle[states.length % cycle.length]!, state.t + 1);
    states.push(state);
  }
  const bytes = states.map((s) => encode(signState(backend, 'ml-dsa-44', keys.secretKey, s)));
  return { genesis, ledger, states, bytes };
}

describe('a long chain', () => {
  const LENGTH = 6000;
  let bad = new Set<string>();
  const { backend } = scriptedBackend((message) => !bad.has(toHex(message)));
  const built = longChain(backend, LENGTH);
  const input = { genesis: built.genesis, world: built.ledger, backend };

  /** A generator over the chain that counts what was read and whether it was closed. */
  function source(states: Uint8Array[]) {
    const seen = { read: 0, closed: false };
    function* read() {
      try {
        for (const s of states) {
          seen.read++;
          yield s;
        }
      } finally {
        seen.closed = true;
      }
    }
    return { seen, states: read() };
  }

  it('keeps many signature checks in flight but never the whole chain', async () => {
    // Checks answered only once the gate opens: the reader runs ahead until the window is full, then waits.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { backend: gated, stats } = scriptedBackend(async () => {
      await gate;
      return true;
    });
    const running = verifyChain({ ...input, backend: gated, states: built.bytes });
    let seen = -1;
    while (stats.inFlight !== seen) {
      seen = stats.inFlight;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(stats.inFlight).toBeGreaterThan(256);
    expect(stats.inFlight).toBeLessThanOrEqual(4096);
    expect(stats.inFlight).toBeLessThan(LENGTH);
    open();
    const result = await running;
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(LENGTH);
    expect(stats.calls).toBe(LENGTH);
    expect(stats.maxInFlight).toBeLessThanOrEqual(4096);
  });

  it('stops reading at a failure and closes the source', async () => {
    const k = 3000;
    bad = new Set([toHex(idOf(built.states[k]).bytes)]);
    const tampered = [...built.bytes];
    tampered[k + 1] = Uint8Array.from([0xff]);
    const { seen, states } = source(tampered);
    const result = await verifyChain({ ...input, states });
    expect(outcome(result).failure).toMatchObject({ index: k, n: k, rule: 'V3', code: 'E_SIGNATURE' });
    expect(result.verified).toBe(k);
    expect(result.checkpoint!.state.n).toBe(k - 1);
    expect(seen.read).toBeLessThanOrEqual(k + 4097);
    expect(seen.read).toBeLessThan(LENGTH);
    expect(seen.closed).toBe(true);
  });

  it('waits for a slow failing signature at its own V3 step while later ones have passed', async () => {
    const k = 10;
    const slow = toHex(idOf(built.states[k]).bytes);
    const { backend: late } = scriptedBackend(async (message) => {
      if (toHex(message) !== slow) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return false;
    });
    const result = await verifyChain({ ...input, backend: late, states: built.bytes.slice(0, 100) });
    expect(outcome(result).failure).toMatchObject({ index: k, rule: 'V3', code: 'E_SIGNATURE' });
  });

  it('reads an asynchronous source while checking, with the same outcome', async () => {
    bad = new Set([toHex(idOf(built.states[4500]).bytes)]);
    async function* fetched() {
      for (let i = 0; i < built.bytes.length; i += 100) {
        await new Promise((resolve) => setImmediate(resolve)); // a page arrives
        yield* built.bytes.slice(i, i + 100);
      }
    }
    const result = await verifyChain({ ...input, states: fetched() });
    expect(outcome(result)).toEqual(outcome(await verifyChain({ ...input, states: built.bytes })));
    expect(result.failure).toMatchObject({ index: 4500, rule: 'V3' });
  });

  it('throws what the source throws only once every earlier state is checked', async () => {
    bad = new Set();
    const broken = (at: number) =>
      (function* () {
        yield* built.bytes.slice(0, at);
        throw new Error('connection reset');
      })();
    let progress = 0;
    await expect(
      verifyChain({ ...input, states: broken(2500), onProgress: (v) => (progress = v) }),
    ).rejects.toThrow('connection reset');
    expect(progress).toBe(2500);
    // An earlier failing state is the outcome; the source's error after it is not reached.
    bad = new Set([toHex(idOf(built.states[1200]).bytes)]);
    const result = await verifyChain({ ...input, states: broken(2500) });
    expect(result.failure).toMatchObject({ index: 1200, rule: 'V3' });
  });

  it('checks every state of a chain longer than the window against its own signature', async () => {
    const wrong = [0, 2048, 4097, LENGTH - 1];
    for (const k of wrong) {
      bad = new Set([toHex(idOf(built.states[k]).bytes)]);
      const result = await verifyChain({ ...input, states: built.bytes });
      expect(result.failure).toMatchObject({ index: k, n: k, rule: 'V3' });
    }
  });

  it('keeps the signed states it accepted intact', async () => {
    bad = new Set();
    const result = await verifyChain({ ...input, states: built.bytes.slice(0, 50) });
    const last = result.checkpoint!;
    expect(last.stateId.equals(idOf(built.states[49]))).toBe(true);
    expect(toHex(encode(last.state))).toBe(toHex(encode(built.states[49])));
    const signed: SignedState = decodeSignedState(built.bytes[49]!).signed;
    expect(toHex(encode(signed.state))).toBe(toHex(encode(last.state)));
  });
});
