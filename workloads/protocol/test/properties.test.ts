/** Properties of the protocol checked over generated inputs (fast-check). */
import { describe, expect, it } from '@jest/globals';
import * as dagCbor from '@ipld/dag-cbor';
import * as cborg from 'cborg';
import fc from 'fast-check';
import {
  checkSignedState,
  decodeObject,
  decodeStrict,
  DsmError,
  encode,
  idOf,
  makeGenesis,
  makePolicy,
  makeToken,
  MemoryLedger,
  nodeBackend,
  toHex,
  type SignedState,
} from '@dsm/protocol';
import { Actor, seeded } from './actors.js';

/** Which check a single changed state must fail, from what the change touched (§4 order). */
function expectedCode(original: SignedState, mutatedBytes: Uint8Array): string {
  let mutated: SignedState;
  try {
    mutated = checkSignedState(decodeStrict(mutatedBytes));
  } catch {
    return 'E_DECODE';
  }
  const a = original.state;
  const b = mutated.state;
  if (!a.identity.equals(b.identity) || a.n !== b.n || String(a.prev) !== String(b.prev)) return 'E_LINK';
  if (toHex(a.entropy) !== toHex(b.entropy) || toHex(encode(a.op)) !== toHex(encode(b.op)))
    return 'E_ENTROPY';
  return 'E_SIGNATURE';
}

describe('tampering', () => {
  it('any single-byte change to a signed state or its signature is rejected with the right code', async () => {
    const ledger = new MemoryLedger(nodeBackend);
    const alice = new Actor(ledger, 31, 'ml-dsa-44', nodeBackend, false);
    const bob = new Actor(ledger, 32, 'ml-dsa-44', nodeBackend, false);
    await alice.start();
    await bob.start();
    const { tokenId } = await alice.createToken([{ kind: 'amountLimit', op: 'token.transfer', max: '1000' }]);
    const target = alice.build({
      kind: 'token.transfer',
      token: tokenId,
      amount: '25',
      to: bob.identity,
      memo: 'hi',
    });
    const bytes = encode(target);
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(bytes.length - 1),
        fc.integer({ min: 1, max: 255 }),
        async (position, delta) => {
          const mutated = Uint8Array.from(bytes);
          mutated[position] = (mutated[position]! + delta) & 0xff;
          const expected = expectedCode(target, mutated);
          seen.add(expected);
          let code = 'accepted';
          try {
            await ledger.accept(checkSignedState(decodeStrict(mutated)));
          } catch (e) {
            code = e instanceof DsmError ? e.code : String(e);
          }
          expect(code).toBe(expected);
        },
      ),
      { numRuns: 400, seed: 42 },
    );
    // The generator must have reached the interesting cases, not only the signature bytes.
    expect([...seen].sort()).toEqual(['E_DECODE', 'E_ENTROPY', 'E_LINK', 'E_SIGNATURE']);
    await expect(ledger.accept(target)).resolves.toBeDefined();
  });
});

describe('random operation sequences', () => {
  type Step =
    | { kind: 'mint'; amount: number }
    | { kind: 'transfer'; from: number; to: number; amount: number }
    | { kind: 'receive'; who: number }
    | { kind: 'burn' | 'lock' | 'unlock'; who: number; amount: number };
  const amount = fc.integer({ min: 1, max: 400 });
  const who = fc.integer({ min: 0, max: 2 });
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('mint' as const), amount }),
    fc.record({ kind: fc.constant('transfer' as const), from: who, to: who, amount }),
    fc.record({ kind: fc.constant('receive' as const), who }),
    fc.record({ kind: fc.constantFrom('burn' as const, 'lock' as const, 'unlock' as const), who, amount }),
  );

  it('never make a balance negative and conserve supply', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 25 }), async (steps) => {
        const ledger = new MemoryLedger(nodeBackend);
        const actors = [0, 1, 2].map((i) => new Actor(ledger, 40 + i, 'ml-dsa-44', nodeBackend, false));
        for (const a of actors) await a.start();
        const issuer = actors[0]!;
        const { tokenId } = await issuer.createToken([], 500n);
        const t = tokenId.toString();
        let issued = 500n;
        let burned = 0n;
        const inFlight = new Map<string, { signed: SignedState; to: number }>();
        for (const s of steps) {
          try {
            switch (s.kind) {
              case 'mint':
                await issuer.act({ kind: 'token.mint', token: tokenId, amount: String(s.amount) });
                issued += BigInt(s.amount);
                break;
              case 'transfer': {
                const signed = await actors[s.from]!.transfer(tokenId, BigInt(s.amount), actors[s.to]!);
                inFlight.set(idOf(signed.state).toString(), { signed, to: s.to });
                break;
              }
              case 'receive': {
                const pending = [...inFlight.entries()].find(([, v]) => v.to === s.who);
                if (pending) {
                  await actors[s.who]!.receive(pending[1].signed);
                  inFlight.delete(pending[0]);
                }
                break;
              }
              default:
                await actors[s.who]!.act({
                  kind: `token.${s.kind}`,
                  token: tokenId,
                  amount: String(s.amount),
                  purpose: 'p',
                } as never);
                if (s.kind === 'burn') burned += BigInt(s.amount);
            }
          } catch (e) {
            // Only overdrafts may be refused; anything else is a bug.
            expect((e as DsmError).code).toBe('E_BALANCE');
          }
        }
        let held = 0n;
        for (const a of actors) {
          const entry = a.head.balances[t];
          if (entry) {
            expect(BigInt(entry.available) >= 0n && BigInt(entry.locked) >= 0n).toBe(true);
            held += BigInt(entry.available) + BigInt(entry.locked);
          }
        }
        const pending = [...inFlight.values()].reduce(
          (sum, v) => sum + BigInt((v.signed.state.op as { amount: string }).amount),
          0n,
        );
        expect(held + pending).toBe(issued - burned);
      }),
      { numRuns: 25, seed: 7 },
    );
  });
});

describe('encoding round trips', () => {
  const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  const genesis = fc
    .record({
      publicKey: bytesOf(1312),
      kem: bytesOf(1184),
      nonce: bytesOf(32),
      label: fc.option(fc.string(), { nil: undefined }),
    })
    .map((g) =>
      makeGenesis({
        suite: 'ml-dsa-44',
        publicKey: g.publicKey,
        kemPublicKey: g.kem,
        nonce: g.nonce,
        ...(g.label !== undefined ? { label: g.label } : {}),
      }),
    );
  const author = idOf({ author: 1 });
  const token = fc
    .record({
      symbol: fc.string(),
      name: fc.string(),
      decimals: fc.integer({ min: 0, max: 36 }),
      supply: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
    })
    .map((t) =>
      makeToken({
        issuer: author,
        symbol: t.symbol,
        name: t.name,
        decimals: t.decimals,
        initialSupply: t.supply,
        policy: author,
        nonce: seeded(32, 1),
      }),
    );
  const policy = fc
    .array(fc.record({ max: fc.bigInt({ min: 0n, max: 10n ** 30n }) }), { maxLength: 5 })
    .map((cs) =>
      makePolicy(
        author,
        cs.map((c) => ({ kind: 'supplyCap', max: c.max.toString() })),
      ),
    );
  const object = fc.oneof(genesis, token, policy);

  it('decode ∘ encode is identity', () => {
    fc.assert(
      fc.property(object, (value) => {
        const bytes = encode(value);
        expect(toHex(encode(decodeObject(bytes)))).toBe(toHex(bytes));
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it('non-canonical encodings of the same value are rejected', () => {
    // DAG-CBOR orders map keys length-first, then bytewise; encode with the opposite order instead.
    const keyOf = (entry: unknown) => String((entry as [{ value: unknown }])[0].value);
    const canonical = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
    const reversed = {
      ...dagCbor.encodeOptions,
      mapSorter: (a: unknown, b: unknown) => -canonical(keyOf(a), keyOf(b)),
    };
    fc.assert(
      fc.property(object, (value) => {
        const wrongOrder = cborg.encode(value, reversed as unknown as cborg.EncodeOptions);
        expect(() => decodeObject(wrongOrder)).toThrow(/canonical/);
      }),
      { numRuns: 100, seed: 4 },
    );
  });
});
