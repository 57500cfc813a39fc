import { describe, expect, it } from '@jest/globals';
import { alice, bob, id, input, ops, parseOutcome } from '../../test/policy-input.js';
import { denyList } from './deny-list.js';

describe('denyList', () => {
  const c = denyList.parse({ kind: 'denyList', identities: [bob] }, 'c');
  const carol = id('carol');
  it('fails when the actor, the recipient or the sender is listed', () => {
    expect(denyList.evaluate(c, input(bob, ops.burn('1')))).toMatch(/deny list/);
    expect(denyList.evaluate(c, input(alice, ops.transfer('1', bob)))).toBeDefined();
    expect(denyList.evaluate(c, input(alice, ops.receive('1', bob)))).toBeDefined();
  });
  it('passes everyone else', () => {
    expect(denyList.evaluate(c, input(alice, ops.transfer('1', carol)))).toBeUndefined();
    expect(denyList.evaluate(c, input(carol, ops.receive('1', alice)))).toBeUndefined();
  });
  it('rejects malformed shapes', () => {
    expect(parseOutcome(() => denyList.parse({ kind: 'denyList' }, 'c'))).toBe('c.identities');
  });
});
