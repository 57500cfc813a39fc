import { describe, expect, it } from '@jest/globals';
import { makePolicy } from '../chain.js';
import { DsmError } from '../errors.js';
import { alice, bob, input, issuer, ops } from '../../test/policy-input.js';
import { evaluatePolicy, validatePolicy } from './policy.js';

describe('policy', () => {
  it('fails closed on an unknown condition or a bad field, naming it', () => {
    const unknown = makePolicy(issuer, [{ kind: 'operations', allow: [] }, { kind: 'quorum' }]);
    expect(() => validatePolicy(unknown)).toThrow(DsmError);
    expect(() => validatePolicy(makePolicy(issuer, [{ kind: 'supplyCap', max: 'lots' }]))).toThrow(
      expect.objectContaining({
        code: 'E_POLICY',
        details: expect.objectContaining({ condition: 0, kind: 'supplyCap', field: 'conditions[0].max' }),
      }),
    );
    // A kind inherited from Object.prototype is not a condition.
    expect(() => validatePolicy(makePolicy(issuer, [{ kind: 'toString' }]))).toThrow(
      /unknown condition kind/,
    );
  });

  it('an empty policy restricts nothing', () => {
    expect(evaluatePolicy(validatePolicy(makePolicy(issuer, [])), input(alice, ops.burn('1')))).toEqual({
      pass: true,
    });
  });

  it('reports the first failing condition with index and kind; operations is skipped on create', () => {
    const policy = validatePolicy(
      makePolicy(issuer, [
        { kind: 'operations', allow: ['token.transfer'] },
        { kind: 'amountLimit', op: 'token.transfer', max: '5' },
        { kind: 'denyList', identities: [bob] },
      ]),
    );
    expect(evaluatePolicy(policy, input(alice, ops.transfer('6', bob)))).toMatchObject({
      pass: false,
      index: 1,
      kind: 'amountLimit',
    });
    expect(evaluatePolicy(policy, input(alice, ops.transfer('5', bob)))).toMatchObject({
      pass: false,
      index: 2,
    });
    expect(evaluatePolicy(policy, input(issuer, ops.create))).toEqual({ pass: true });
  });
});
