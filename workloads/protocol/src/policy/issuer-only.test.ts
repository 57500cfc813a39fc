import { describe, expect, it } from '@jest/globals';
import { alice, bob, input, issuer, ops, parseOutcome } from '../../test/policy-input.js';
import { issuerOnly } from './issuer-only.js';

describe('issuerOnly', () => {
  const c = issuerOnly.parse({ kind: 'issuerOnly', ops: ['token.burn', 'token.transfer'] }, 'c');
  it('lets the issuer do listed kinds', () => {
    expect(issuerOnly.evaluate(c, input(issuer, ops.burn('1')))).toBeUndefined();
  });
  it('stops anyone else doing listed kinds', () => {
    expect(issuerOnly.evaluate(c, input(alice, ops.transfer('1', bob)))).toMatch(/only the issuer/);
  });
  it('ignores unlisted kinds', () => {
    expect(issuerOnly.evaluate(c, input(alice, ops.lock('1')))).toBeUndefined();
  });
  it('rejects malformed shapes', () => {
    expect(parseOutcome(() => issuerOnly.parse({ kind: 'issuerOnly', ops: ['token.nope'] }, 'c'))).toBe(
      'c.ops[0]',
    );
    expect(parseOutcome(() => issuerOnly.parse({ kind: 'issuerOnly' }, 'c'))).toBe('c.ops');
  });
});
