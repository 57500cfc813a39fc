import { describe, expect, it } from '@jest/globals';
import { alice, bob, input, ops, parseOutcome } from '../../test/policy-input.js';
import { operations } from './operations.js';

describe('operations', () => {
  const c = operations.parse({ kind: 'operations', allow: ['token.transfer'] }, 'c');
  it('passes listed kinds and always create and receive', () => {
    expect(operations.evaluate(c, input(alice, ops.transfer('1', bob)))).toBeUndefined();
    expect(operations.evaluate(c, input(alice, ops.create))).toBeUndefined();
    expect(operations.evaluate(c, input(alice, ops.receive('1', bob)))).toBeUndefined();
  });
  it('fails unlisted kinds', () => {
    expect(operations.evaluate(c, input(alice, ops.burn('1')))).toMatch(/token.burn is not among/);
    expect(operations.evaluate(c, input(alice, ops.lock('1')))).toBeDefined();
  });
  it('rejects malformed shapes', () => {
    expect(parseOutcome(() => operations.parse({ kind: 'operations' }, 'c'))).toBe('c.allow');
    expect(parseOutcome(() => operations.parse({ kind: 'operations', allow: ['genesis'] }, 'c'))).toBe(
      'c.allow[0]',
    );
    expect(parseOutcome(() => operations.parse({ kind: 'operations', allow: 'token.mint' }, 'c'))).toBe(
      'c.allow',
    );
    expect(parseOutcome(() => operations.parse({ kind: 'operations', allow: [], x: 1 }, 'c'))).toBe('c.x');
  });
});
