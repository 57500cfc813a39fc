import { describe, expect, it } from '@jest/globals';
import { alice, bob, input, ops, parseOutcome } from '../../test/policy-input.js';
import { amountLimit } from './amount-limit.js';

describe('amountLimit', () => {
  const c = amountLimit.parse({ kind: 'amountLimit', op: 'token.transfer', max: '10' }, 'c');
  it('passes amounts up to the limit inclusive', () => {
    expect(amountLimit.evaluate(c, input(alice, ops.transfer('10', bob)))).toBeUndefined();
  });
  it('fails a single operation over the limit', () => {
    expect(amountLimit.evaluate(c, input(alice, ops.transfer('11', bob)))).toMatch(/over the limit of 10/);
  });
  it('ignores other kinds', () => {
    expect(amountLimit.evaluate(c, input(alice, ops.burn('1000')))).toBeUndefined();
  });
  it('accepts only kinds with an amount', () => {
    expect(
      parseOutcome(() => amountLimit.parse({ kind: 'amountLimit', op: 'token.create', max: '1' }, 'c')),
    ).toBe('c.op');
    expect(
      parseOutcome(() => amountLimit.parse({ kind: 'amountLimit', op: 'token.lock', max: '-1' }, 'c')),
    ).toBe('c.max');
  });
});
