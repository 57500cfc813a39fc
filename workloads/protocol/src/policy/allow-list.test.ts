import { describe, expect, it } from '@jest/globals';
import { alice, bob, id, input, ops, parseOutcome } from '../../test/policy-input.js';
import { allowList } from './allow-list.js';

describe('allowList', () => {
  const recipient = allowList.parse({ kind: 'allowList', identities: [alice], appliesTo: 'recipient' }, 'c');
  const holder = allowList.parse({ kind: 'allowList', identities: [alice], appliesTo: 'holder' }, 'c');
  const carol = id('carol');
  it('recipient: transfer.to and the receiver must be listed; other kinds pass', () => {
    expect(allowList.evaluate(recipient, input(bob, ops.transfer('1', alice)))).toBeUndefined();
    expect(allowList.evaluate(recipient, input(alice, ops.transfer('1', carol)))).toMatch(
      /not on the recipient/,
    );
    expect(allowList.evaluate(recipient, input(alice, ops.receive('1', carol)))).toBeUndefined();
    expect(allowList.evaluate(recipient, input(bob, ops.receive('1', alice)))).toBeDefined();
    expect(allowList.evaluate(recipient, input(carol, ops.burn('1')))).toBeUndefined();
  });
  it('holder: the acting identity must be listed for every kind', () => {
    expect(allowList.evaluate(holder, input(alice, ops.burn('1')))).toBeUndefined();
    expect(allowList.evaluate(holder, input(bob, ops.lock('1')))).toMatch(/holder/);
    expect(allowList.evaluate(holder, input(bob, ops.create))).toBeDefined();
  });
  it('rejects malformed shapes', () => {
    expect(
      parseOutcome(() => allowList.parse({ kind: 'allowList', identities: [alice], appliesTo: 'all' }, 'c')),
    ).toBe('c.appliesTo');
    expect(
      parseOutcome(() => allowList.parse({ kind: 'allowList', identities: ['x'], appliesTo: 'holder' }, 'c')),
    ).toBe('c.identities[0]');
  });
});
