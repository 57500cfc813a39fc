import { describe, expect, it } from '@jest/globals';
import { idOf, isDsmError, makePolicy } from '@dsm/protocol';
import { anonymousAuthor, checkPolicy, conditionsFromJson, parsePolicyFile } from './policy-file.js';

const alice = idOf({ who: 'alice' });
const bob = idOf({ who: 'bob' });
const key = 'ab'.repeat(1952); // an ML-DSA-65 public key is 1952 bytes

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isDsmError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a DsmError');
}

describe('parsePolicyFile', () => {
  it('reads conditions and description', () => {
    const text = JSON.stringify({ conditions: [{ kind: 'supplyCap', max: '10' }], description: 'capped' });
    expect(parsePolicyFile(text, 'p.json')).toEqual({
      conditions: [{ kind: 'supplyCap', max: '10' }],
      description: 'capped',
    });
    expect(parsePolicyFile('{"conditions": []}', 'p.json')).toEqual({ conditions: [] });
  });

  it.each([
    ['not json', 'p.json: not JSON'],
    ['[]', 'expected an object'],
    ['{"conditions": {}}', '"conditions" must be a list'],
    ['{"conditions": [1]}', 'conditions[0] must be an object with a "kind"'],
    ['{"conditions": [], "description": 5}', '"description" must be text'],
    ['{"conditions": [], "author": "x"}', 'unknown key "author"'],
  ])('refuses %s', (text, message) => {
    expect(() => parsePolicyFile(text, 'p.json')).toThrow(message);
    expect(codeOf(() => parsePolicyFile(text, 'p.json'))).toBe('E_BAD_REQUEST');
  });
});

describe('conditionsFromJson', () => {
  it('turns identity text into ids and hex signers into bytes, like the core', () => {
    const [allow, cosign] = conditionsFromJson([
      { kind: 'allowList', appliesTo: 'recipient', identities: [alice.toString(), bob.toString()] },
      { kind: 'coSign', suite: 'ml-dsa-65', threshold: 1, ops: ['token.transfer'], signers: [key] },
    ]);
    expect((allow!.identities as unknown[]).map(String)).toEqual([alice.toString(), bob.toString()]);
    expect(allow!.identities as unknown[]).toEqual([alice, bob]);
    const signer = (cosign!.signers as Uint8Array[])[0]!;
    expect(signer).toBeInstanceOf(Uint8Array);
    expect(signer.length).toBe(1952);
  });

  it('refuses a bad identity and a non-hex signer, naming the field', () => {
    expect(codeOf(() => conditionsFromJson([{ kind: 'denyList', identities: ['mallory'] }]))).toBe(
      'E_DECODE',
    );
    expect(() => conditionsFromJson([{ kind: 'coSign', signers: ['XYZ'] }])).toThrow(
      expect.objectContaining({
        details: expect.objectContaining({ field: 'policy.conditions[0].signers[0]' }),
      }),
    );
  });
});

describe('checkPolicy', () => {
  const file = {
    conditions: [
      { kind: 'supplyCap', max: '1000000' },
      { kind: 'amountLimit', op: 'token.transfer', max: '5000' },
      { kind: 'allowList', appliesTo: 'recipient', identities: [alice.toString(), bob.toString()] },
    ],
    description: 'test',
  };

  it('gives the anchor the issuer would have: the id of makePolicy(author, ...)', () => {
    const { check } = checkPolicy(file, alice);
    const expected = idOf(makePolicy(alice, conditionsFromJson(file.conditions), 'test'));
    expect(check).toEqual({
      valid: true,
      anchor: expected.toString(),
      author: alice.toString(),
      conditions: ['supplyCap', 'amountLimit', 'allowList'],
      description: 'test',
    });
    expect(checkPolicy(file, bob).check.anchor).not.toBe(check.anchor);
  });

  it('uses the core anonymous author by default', () => {
    expect(anonymousAuthor().toString()).toBe(idOf({ anonymous: true }).toString());
    expect(checkPolicy({ conditions: [] }, anonymousAuthor()).check.conditions).toEqual([]);
  });

  it('refuses an invalid condition with E_POLICY naming it', () => {
    const bad = { conditions: [{ kind: 'supplyCap', max: 'lots' }] };
    expect(codeOf(() => checkPolicy(bad, alice))).toBe('E_POLICY');
    expect(codeOf(() => checkPolicy({ conditions: [{ kind: 'teleport' }] }, alice))).toBe('E_POLICY');
  });
});
