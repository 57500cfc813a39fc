import { describe, expect, it } from '@jest/globals';
import type { CID } from 'multiformats/cid';
import { nodeBackend } from './crypto/index.js';
import { idOf } from './encoding.js';
import { makeGenesis, makeGenesisState } from './chain.js';
import { MemoryLedger } from './ledger.js';
import { overlayWorld } from './overlay.js';
import { signState } from './chain.js';
import { verifyState, type World } from './verify.js';
import type { Policy } from './objects.js';
import { validatePolicy } from './policy/policy.js';

/** A class-based World whose methods read its own fields: they break when called with another `this`. */
class CountingWorld implements World {
  private readonly forked = new Set<string>();
  calls: string[] = [];
  constructor(forked: CID[] = []) {
    for (const id of forked) this.forked.add(id.toString());
  }
  tokenDefinition() {
    this.calls.push('tokenDefinition');
    return undefined;
  }
  tokenCreation() {
    this.calls.push('tokenCreation');
    return undefined;
  }
  policy() {
    this.calls.push('policy');
    return undefined;
  }
  acceptedState() {
    this.calls.push('acceptedState');
    return undefined;
  }
  isForked(identity: CID) {
    this.calls.push('isForked');
    return this.forked.has(identity.toString());
  }
  conflictingState() {
    this.calls.push('conflictingState');
    return undefined;
  }
}

function identityOf(seed: number) {
  const keys = nodeBackend.keygen('ml-dsa-44');
  const genesis = makeGenesis({
    suite: 'ml-dsa-44',
    publicKey: keys.publicKey,
    kemPublicKey: nodeBackend.kemKeygen().publicKey,
    nonce: new Uint8Array(32).fill(seed),
  });
  return { keys, genesis, identity: idOf(genesis) };
}

describe('overlayWorld', () => {
  const { identity } = identityOf(1);
  const other = identityOf(2).identity;

  it('answers from the overrides where given and from the base otherwise, base methods as methods of the base', async () => {
    const base = new CountingWorld([identity]);
    const world = overlayWorld(base, { conflictingState: () => other });
    expect(world.isForked(identity)).toBe(true);
    expect(world.isForked(other)).toBe(false);
    expect(await world.conflictingState(identity, 1, identity)).toBe(other);
    expect(base.calls).toEqual(['isForked', 'isForked']);
  });

  it('has no `this`: detached methods still work', () => {
    const base = new CountingWorld([identity]);
    const overrides = {
      marker: other,
      tokenCreation(this: { marker: CID }) {
        return this.marker;
      },
    };
    const { isForked, tokenCreation } = overlayWorld(base, overrides);
    expect(isForked(identity)).toBe(true);
    expect(tokenCreation(identity)).toBe(other);
  });

  it('looks methods up when they are called', () => {
    const base = new CountingWorld();
    const world = overlayWorld(base, {});
    base.isForked = () => true;
    expect(world.isForked(identity)).toBe(true);
  });

  it('carries optional methods only when the base or the overrides have them', () => {
    const bare = overlayWorld(new CountingWorld(), {});
    expect(bare.validPolicy).toBeUndefined();
    expect(bare.forkHeight).toBeUndefined();
    expect('validPolicy' in bare).toBe(false);

    const ledger = new MemoryLedger(nodeBackend);
    const fromBase = overlayWorld(ledger, {});
    expect(fromBase.forkHeight!(identity)).toBeUndefined();
    const policy: Policy = { type: 'dsm/policy@1', author: identity, conditions: [] };
    expect(fromBase.validPolicy!(idOf(policy), policy)).toEqual(validatePolicy(policy));

    const fromOverride = overlayWorld(new CountingWorld(), { forkHeight: () => 3 });
    expect(fromOverride.forkHeight!(identity)).toBe(3);
    // An override given as undefined is no override.
    expect(overlayWorld(ledger, { forkHeight: undefined }).forkHeight).toBeDefined();
  });

  it('carries only the methods of World', () => {
    const ledger = new MemoryLedger(nodeBackend);
    const world = overlayWorld(ledger, {}) as World & { accept?: unknown; genesis?: unknown };
    expect(world.accept).toBeUndefined();
    expect(world.genesis).toBeUndefined();
  });

  it('is what verification sees: an overridden fork oracle rejects state 0', async () => {
    const actor = identityOf(3);
    const ledger = new MemoryLedger(nodeBackend);
    ledger.addGenesis(actor.genesis);
    const signed = signState(
      nodeBackend,
      'ml-dsa-44',
      actor.keys.secretKey,
      makeGenesisState(actor.identity, 1),
    );
    const input = {
      genesis: actor.genesis,
      identity: actor.identity,
      checkpoint: null,
      signed,
      backend: nodeBackend,
    };
    await expect(verifyState({ ...input, world: ledger })).resolves.toBeDefined();
    await expect(
      verifyState({ ...input, world: overlayWorld(ledger, { isForked: (id) => id.equals(actor.identity) }) }),
    ).rejects.toMatchObject({ code: 'E_FORK', details: { rule: 'V7' } });
  });
});
