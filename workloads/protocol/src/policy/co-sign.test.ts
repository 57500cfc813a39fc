import { describe, expect, it } from '@jest/globals';
import { coSignState, nobleBackend } from '@dsm/protocol';
import { alice, bob, input, ops, parseOutcome, stateOf } from '../../test/policy-input.js';
import { coSign } from './co-sign.js';

const k1 = nobleBackend.keygen('ml-dsa-44', new Uint8Array(32).fill(1));
const k2 = nobleBackend.keygen('ml-dsa-44', new Uint8Array(32).fill(2));
const outsider = nobleBackend.keygen('ml-dsa-44', new Uint8Array(32).fill(3));

describe('coSign', () => {
  const c = coSign.parse(
    {
      kind: 'coSign',
      signers: [k1.publicKey, k2.publicKey],
      suite: 'ml-dsa-44',
      threshold: 2,
      ops: ['token.transfer'],
    },
    'c',
  );
  const op = ops.transfer('5', bob);
  const state = stateOf(alice, op);
  const sigBy = (k: typeof k1) => coSignState(nobleBackend, 'ml-dsa-44', k, state);

  it('passes with threshold distinct listed signers', () => {
    expect(coSign.evaluate(c, input(alice, op, { cosigs: [sigBy(k1), sigBy(k2)] }))).toBeUndefined();
  });
  it('does not count the same signer twice, outsiders, or bad signatures', () => {
    expect(coSign.evaluate(c, input(alice, op, { cosigs: [sigBy(k1), sigBy(k1)] }))).toMatch(
      /1 of the required 2/,
    );
    expect(coSign.evaluate(c, input(alice, op, { cosigs: [sigBy(k1), sigBy(outsider)] }))).toBeDefined();
    const bad = { ...sigBy(k2), sig: sigBy(k2).sig.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(coSign.evaluate(c, input(alice, op, { cosigs: [sigBy(k1), bad] }))).toBeDefined();
    // A co-signature over another state does not count either.
    const other = coSignState(nobleBackend, 'ml-dsa-44', k2, stateOf(alice, ops.transfer('6', bob)));
    expect(coSign.evaluate(c, input(alice, op, { cosigs: [sigBy(k1), other] }))).toBeDefined();
  });
  it('ignores unlisted kinds', () => {
    expect(coSign.evaluate(c, input(alice, ops.burn('1')))).toBeUndefined();
  });
  it('rejects malformed shapes', () => {
    const base = { kind: 'coSign', signers: [k1.publicKey], suite: 'ml-dsa-44', threshold: 1, ops: [] };
    expect(parseOutcome(() => coSign.parse(base, 'c'))).toBe('ok');
    expect(parseOutcome(() => coSign.parse({ ...base, threshold: 2 }, 'c'))).toBe('c.threshold');
    expect(parseOutcome(() => coSign.parse({ ...base, threshold: 0 }, 'c'))).toBe('c.threshold');
    expect(parseOutcome(() => coSign.parse({ ...base, signers: [new Uint8Array(32)] }, 'c'))).toBe(
      'c.signers[0]',
    );
    expect(parseOutcome(() => coSign.parse({ ...base, suite: 'ml-kem-768' }, 'c'))).toBe('c.suite');
  });
});
