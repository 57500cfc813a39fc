import { describe, expect, it } from '@jest/globals';
import { alice, bob, input, issuer, ops, parseOutcome } from '../../test/policy-input.js';
import { supplyCap } from './supply-cap.js';

describe('supplyCap', () => {
  const c = supplyCap.parse({ kind: 'supplyCap', max: '150' }, 'c');
  it('checks initialSupply on create', () => {
    expect(supplyCap.evaluate(c, input(issuer, ops.create))).toBeUndefined(); // 100 ≤ 150
    const tight = supplyCap.parse({ kind: 'supplyCap', max: '99' }, 'c');
    expect(supplyCap.evaluate(tight, input(issuer, ops.create))).toMatch(/over the cap of 99/);
  });
  it('counts every mint up to and including this state, inclusive bound', () => {
    expect(supplyCap.evaluate(c, input(issuer, ops.mint('50'), { issuedBefore: 100n }))).toBeUndefined();
    expect(supplyCap.evaluate(c, input(issuer, ops.mint('51'), { issuedBefore: 100n }))).toMatch(/151/);
  });
  it('burns free no room; other kinds never fail', () => {
    expect(supplyCap.evaluate(c, input(issuer, ops.mint('1'), { issuedBefore: 150n }))).toBeDefined();
    expect(
      supplyCap.evaluate(c, input(alice, ops.transfer('1000', bob), { issuedBefore: 999n })),
    ).toBeUndefined();
  });
  it('allows a cap of "0" and rejects malformed maxima', () => {
    expect(parseOutcome(() => supplyCap.parse({ kind: 'supplyCap', max: '0' }, 'c'))).toBe('ok');
    expect(parseOutcome(() => supplyCap.parse({ kind: 'supplyCap', max: 150 }, 'c'))).toBe('c.max');
    expect(parseOutcome(() => supplyCap.parse({ kind: 'supplyCap', max: '015' }, 'c'))).toBe('c.max');
  });
});
