import { describe, expect, it } from '@jest/globals';
import {
  amountText,
  balancesWithDisplay,
  inboxWithDisplay,
  receivedWithDisplay,
  tokenWithDisplay,
  tokensOf,
} from './units.js';

const units = new Map([
  ['gld', 2],
  ['whole', 0],
]);
const token = {
  token: 'gld',
  issuer: 'alice',
  symbol: 'GLD',
  name: 'Gold',
  decimals: 2,
  initialSupply: '100000',
  policy: 'p',
  created: false,
  supply: null,
};

describe('amounts in output', () => {
  it('are in the decimals of their token, base units with --raw, marked when unknown', () => {
    expect(amountText('2500', 'gld', units)).toBe('25.00');
    expect(amountText('2500', 'whole', units)).toBe('2500');
    expect(amountText('2500', 'gld', 'raw')).toBe('2500');
    expect(amountText('2500', 'other', units)).toBe('2500 (base units)');
  });

  it('keep the base units in JSON and add display fields where the decimals are known', () => {
    const balances = { gld: { available: '2500', locked: '5' }, other: { available: '1', locked: '0' } };
    expect(balancesWithDisplay(balances, units)).toEqual({
      gld: { available: '2500', locked: '5', decimals: 2, availableDisplay: '25.00', lockedDisplay: '0.05' },
      other: { available: '1', locked: '0' },
    });
    expect(balancesWithDisplay(balances, 'raw')).toBe(balances);
    const entry = { transfer: 't', seq: 1, from: 'a', token: 'gld', amount: '1', received: true };
    expect(inboxWithDisplay([entry], units)).toEqual([{ ...entry, decimals: 2, amountDisplay: '0.01' }]);
    expect(inboxWithDisplay([entry], 'raw')).toEqual([entry]);
  });

  it('add display fields to every received operation', () => {
    const one = { identity: 'b', n: 1, stateId: 's', op: 'token.receive' as const, replicas: [] };
    const all = receivedWithDisplay(
      {
        identity: 'b',
        received: [{ ...one, balances: { gld: { available: '100', locked: '0' } } }],
        failed: [],
      },
      units,
    );
    expect(all).toMatchObject({ received: [{ balances: { gld: { availableDisplay: '1.00' } } }] });
    expect(
      tokensOf({
        identity: 'b',
        received: [{ ...one, balances: { gld: { available: '1', locked: '0' } } }],
        failed: [],
      }),
    ).toEqual(['gld']);
  });

  it('of a token come from its own decimals', () => {
    expect(tokenWithDisplay(token, new Map())).toEqual({ ...token, initialSupplyDisplay: '1000.00' });
    expect(tokenWithDisplay({ ...token, supply: { issued: '5', burned: '0' } }, new Map()).supply).toEqual({
      issued: '5',
      burned: '0',
      issuedDisplay: '0.05',
      burnedDisplay: '0.00',
    });
    expect(tokenWithDisplay(token, 'raw')).toBe(token);
  });

  it('name the tokens whose decimals an output needs', () => {
    expect(tokensOf({ balances: { a: { available: '1', locked: '0' } } })).toEqual(['a']);
    expect(
      tokensOf({ entries: [{ transfer: 't', seq: 1, from: 'f', token: 'b', amount: '1', received: false }] }),
    ).toEqual(['b']);
  });
});
