/**
 * The committed test vectors (protocol.md §9): fixed seeds, deterministic signing, fixed clock. Running this
 * again must reproduce vectors.json byte for byte; `npm run vectors -w @dsm/protocol` rewrites it after an
 * intended change (which must bump an @1 type if old vectors stop verifying).
 */
import type { CID } from 'multiformats/cid';
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
  toHex,
  type Accepted,
  type Genesis,
  type Policy,
  type SignedState,
  type TokenDefinition,
  type VerifyOptions,
} from '@dsm/protocol';
import { Actor, nobleBackend, seeded, T0 } from '../actors.js';

export interface VectorObject {
  id: string;
  type: string;
  hex: string;
}
export interface VectorStep {
  /** id(state), absent when the bytes do not decode. */
  id?: string;
  hex: string;
  /** Clock of the accepting node, when the ±skew check applies. */
  now?: number;
  expect: 'accepted' | { code: string; rule: string };
}
export interface Scenario {
  name: string;
  description: string;
  objects: VectorObject[];
  steps: VectorStep[];
}
export interface Vectors {
  protocol: 'dsm/1';
  note: string;
  scenarios: Scenario[];
}

/** A ledger that writes down every object and every state offered to it. */
class RecordingLedger extends MemoryLedger {
  readonly objects: VectorObject[] = [];
  readonly steps: VectorStep[] = [];
  constructor() {
    super(nodeBackend);
  }
  private keep(value: Genesis | TokenDefinition | Policy, id: CID): CID {
    if (!this.objects.some((o) => o.id === id.toString()))
      this.objects.push({ id: id.toString(), type: value.type, hex: toHex(encode(value)) });
    return id;
  }
  override addGenesis(g: Genesis): CID {
    return this.keep(g, super.addGenesis(g));
  }
  override addToken(t: TokenDefinition): CID {
    return this.keep(t, super.addToken(t));
  }
  override addPolicy(p: Policy): CID {
    return this.keep(p, super.addPolicy(p));
  }
  override async accept(signed: SignedState, options?: VerifyOptions): Promise<Accepted> {
    const step: VectorStep = {
      id: idOf(signed.state).toString(),
      hex: toHex(encode(signed)),
      expect: 'accepted',
    };
    if (options?.now !== undefined) step.now = options.now;
    this.steps.push(step);
    try {
      return await super.accept(signed, options);
    } catch (e) {
      if (!(e instanceof DsmError)) throw e;
      step.expect = { code: e.code, rule: String(e.details.rule) };
      throw e;
    }
  }
  /** Offers a state that must be rejected with `code`; generation fails if it is not. */
  async reject(signed: SignedState, code: string, options?: VerifyOptions): Promise<void> {
    try {
      await this.accept(signed, options);
    } catch (e) {
      if ((e as DsmError).code === code) return;
      throw new Error(`expected ${code}, got ${(e as DsmError).code}: ${(e as Error).message}`);
    }
    throw new Error(`expected ${code}, but the state was accepted`);
  }
}

async function scenario(
  name: string,
  description: string,
  body: (ledger: RecordingLedger) => Promise<void>,
): Promise<Scenario> {
  const ledger = new RecordingLedger();
  await body(ledger);
  return { name, description, objects: ledger.objects, steps: ledger.steps };
}

async function everyOperation(
  ledger: RecordingLedger,
  suite: 'ml-dsa-44' | 'slh-dsa-sha2-128f',
  full: boolean,
): Promise<void> {
  const alice = new Actor(ledger, 101, suite);
  const bob = new Actor(ledger, 102, suite);
  const carol = new Actor(ledger, 103, 'ml-dsa-44');
  const mallory = new Actor(ledger, 104, 'ml-dsa-44');
  await alice.start();
  await bob.start();
  const conditions = full
    ? [
        {
          kind: 'operations',
          allow: ['token.mint', 'token.burn', 'token.transfer', 'token.lock', 'token.unlock'],
        },
        { kind: 'issuerOnly', ops: ['token.mint'] },
        { kind: 'supplyCap', max: '10000' },
        { kind: 'amountLimit', op: 'token.transfer', max: '5000' },
        { kind: 'timeWindow', notBefore: T0 - 1, notAfter: T0 + 1_000_000_000 },
        { kind: 'allowList', identities: [alice.identity, bob.identity], appliesTo: 'recipient' },
        { kind: 'denyList', identities: [mallory.identity] },
        {
          kind: 'coSign',
          signers: [carol.keys.publicKey],
          suite: 'ml-dsa-44',
          threshold: 1,
          ops: ['token.transfer'],
        },
      ]
    : [];
  const { tokenId } = await alice.createToken(conditions, 1000n);
  await alice.act({ kind: 'token.mint', token: tokenId, amount: '500' });
  const op = {
    kind: 'token.transfer' as const,
    token: tokenId,
    amount: '300',
    to: bob.identity,
    memo: 'evm:31337:0x00000000000000000000000000000000000000aa',
  };
  const sent = await alice.act(op, { cosigners: full ? [carol] : [] });
  await bob.receive(sent);
  await bob.act({ kind: 'token.lock', token: tokenId, amount: '100', purpose: 'escrow' });
  await bob.act({ kind: 'token.unlock', token: tokenId, amount: '40', purpose: 'escrow' });
  await bob.act({ kind: 'token.burn', token: tokenId, amount: '10' });
}

/** Two started actors and a token of alice's, for the rejection cases. */
async function setup(ledger: RecordingLedger) {
  const alice = new Actor(ledger, 201);
  const bob = new Actor(ledger, 202);
  await alice.start();
  await bob.start();
  const { tokenId, token } = await alice.createToken(
    [{ kind: 'amountLimit', op: 'token.transfer', max: '50' }],
    100n,
  );
  const resign = (state: SignedState['state']) =>
    signState(nobleBackend, 'ml-dsa-44', alice.keys.secretKey, state, { deterministic: true });
  return {
    alice,
    bob,
    tokenId,
    token,
    resign,
    mint: { kind: 'token.mint' as const, token: tokenId, amount: '1' },
  };
}

export async function generateVectors(): Promise<Vectors> {
  const scenarios: Scenario[] = [];
  scenarios.push(
    await scenario(
      'every-operation/ml-dsa-44',
      'A token under a policy using all eight condition kinds (CTPA), then every operation.',
      (l) => everyOperation(l, 'ml-dsa-44', true),
    ),
    await scenario(
      'every-operation/slh-dsa-sha2-128f',
      'Every operation on SLH-DSA identities under an empty policy.',
      (l) => everyOperation(l, 'slh-dsa-sha2-128f', false),
    ),
    await scenario(
      'fork',
      'A second successor of the same state: E_FORK, evidence kept, every later state E_FORK.',
      async (l) => {
        const { alice, bob, tokenId } = await setup(l);
        const base = alice.head;
        await alice.transfer(tokenId, 10n, bob);
        const sibling = makeNextState(
          base,
          { kind: 'token.transfer', token: tokenId, amount: '10', to: alice.identity },
          base.t + 1000,
        );
        await l.reject(
          signState(nobleBackend, 'ml-dsa-44', alice.keys.secretKey, sibling, { deterministic: true }),
          'E_FORK',
        );
        await l.reject(alice.build({ kind: 'token.mint', token: tokenId, amount: '1' }), 'E_FORK');
      },
    ),
  );
  const cases: [string, string, (l: RecordingLedger) => Promise<void>][] = [
    [
      'E_DECODE',
      'A signed state whose op amount is "01".',
      async (l) => {
        const { alice, mint } = await setup(l);
        const signed = alice.build(mint);
        const bytes = encode({ ...signed, state: { ...signed.state, op: { ...mint, amount: '01' } } });
        l.steps.push({ hex: toHex(bytes), expect: { code: 'E_DECODE', rule: 'decode' } });
      },
    ],
    [
      'E_LINK',
      'n skips a height.',
      async (l) => {
        const { alice, resign, mint } = await setup(l);
        await l.reject(resign({ ...alice.build(mint).state, n: 9 }), 'E_LINK');
      },
    ],
    [
      'E_ENTROPY',
      'Entropy of all zeros.',
      async (l) => {
        const { alice, resign, mint } = await setup(l);
        await l.reject(resign({ ...alice.build(mint).state, entropy: new Uint8Array(32) }), 'E_ENTROPY');
      },
    ],
    [
      'E_SIGNATURE',
      "Signed with another identity's key.",
      async (l) => {
        const { alice, bob, mint } = await setup(l);
        await l.reject(
          signState(nobleBackend, 'ml-dsa-44', bob.keys.secretKey, alice.build(mint).state, {
            deterministic: true,
          }),
          'E_SIGNATURE',
        );
      },
    ],
    [
      'E_CLOCK',
      't earlier than the previous state, and t beyond the skew of the accepting node.',
      async (l) => {
        const { alice, mint } = await setup(l);
        await l.reject(alice.build(mint, { t: alice.head.t - 1 }), 'E_CLOCK');
        await l.reject(alice.build(mint, { t: alice.head.t + 31_000 }), 'E_CLOCK', { now: alice.head.t });
      },
    ],
    [
      'E_UNKNOWN_TOKEN',
      'A mint of a token defined but never created.',
      async (l) => {
        const { alice } = await setup(l);
        const policy = l.addPolicy(makePolicy(alice.identity, []));
        const token = l.addToken(
          makeToken({
            issuer: alice.identity,
            symbol: 'U',
            name: 'Uncreated',
            decimals: 0,
            initialSupply: 0n,
            policy,
            nonce: seeded(32, 9),
          }),
        );
        await l.reject(alice.build({ kind: 'token.mint', token, amount: '1' }), 'E_UNKNOWN_TOKEN');
      },
    ],
    [
      'E_POLICY_UNAVAILABLE',
      'A create whose policy content nobody has.',
      async (l) => {
        const { alice } = await setup(l);
        const hidden = idOf(makePolicy(alice.identity, [], 'never published'));
        const token = makeToken({
          issuer: alice.identity,
          symbol: 'H',
          name: 'Hidden',
          decimals: 0,
          initialSupply: 1n,
          policy: hidden,
          nonce: seeded(32, 10),
        });
        const tokenId = l.addToken(token);
        await l.reject(
          alice.build({ kind: 'token.create', token: tokenId }, { token }),
          'E_POLICY_UNAVAILABLE',
        );
      },
    ],
    [
      'E_POLICY',
      'An invalid policy (unknown condition kind) at create, and a failing amountLimit.',
      async (l) => {
        const { alice, bob, tokenId } = await setup(l);
        const policy = l.addPolicy(makePolicy(alice.identity, [{ kind: 'quorum', members: 3 }]));
        const token = makeToken({
          issuer: alice.identity,
          symbol: 'I',
          name: 'Invalid',
          decimals: 0,
          initialSupply: 1n,
          policy,
          nonce: seeded(32, 11),
        });
        await l.reject(
          alice.build({ kind: 'token.create', token: l.addToken(token) }, { token }),
          'E_POLICY',
        );
        await l.reject(
          alice.build({ kind: 'token.transfer', token: tokenId, amount: '51', to: bob.identity }),
          'E_POLICY',
        );
      },
    ],
    [
      'E_OPERATION',
      "A mint outside the issuer's chain.",
      async (l) => {
        const { alice, bob, tokenId } = await setup(l);
        await bob.receive(await alice.transfer(tokenId, 5n, bob));
        await l.reject(bob.build({ kind: 'token.mint', token: tokenId, amount: '1' }), 'E_OPERATION');
      },
    ],
    [
      'E_RECEIVE',
      'A receive whose amount differs from the transfer.',
      async (l) => {
        const { alice, bob, tokenId } = await setup(l);
        const sent = await alice.transfer(tokenId, 5n, bob);
        await l.reject(
          bob.build({
            kind: 'token.receive',
            token: tokenId,
            amount: '6',
            from: alice.identity,
            transfer: idOf(sent.state),
          }),
          'E_RECEIVE',
        );
      },
    ],
    [
      'E_DUPLICATE_RECEIVE',
      'The same transfer received twice.',
      async (l) => {
        const { alice, bob, tokenId } = await setup(l);
        const sent = await alice.transfer(tokenId, 5n, bob);
        await bob.receive(sent);
        await l.reject(
          bob.build({
            kind: 'token.receive',
            token: tokenId,
            amount: '5',
            from: alice.identity,
            transfer: idOf(sent.state),
          }),
          'E_DUPLICATE_RECEIVE',
        );
      },
    ],
    [
      'E_BALANCE',
      'A balance sheet that does not follow from the operation.',
      async (l) => {
        const { alice, resign, tokenId, mint } = await setup(l);
        await l.reject(
          resign({
            ...alice.build(mint).state,
            balances: { [tokenId.toString()]: { available: '1000000', locked: '0' } },
          }),
          'E_BALANCE',
        );
      },
    ],
  ];
  for (const [code, description, body] of cases)
    scenarios.push(await scenario(`reject/${code}`, description, body));
  return {
    protocol: 'dsm/1',
    note: 'Generated by test/vectors/generate.ts with fixed seeds and deterministic signing. Replay: load objects, offer steps in order to a fresh verifier.',
    scenarios,
  };
}
