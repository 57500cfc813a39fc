import { describe, expect, it } from '@jest/globals';
import { checkInvariant, depositInFlight, withdrawalInFlight } from './invariant.js';

const T = 'bafyr4itoken';
const base = { token: T, wrapped: '0x' + '11'.repeat(20), block: 100 };

describe('supply invariant', () => {
  it('counts a deposit in flight until its mint is in a block at or below B', () => {
    expect(depositInFlight({ token: T, amount: '5', status: 'received' }, 100)).toBe(true);
    expect(depositInFlight({ token: T, amount: '5', status: 'minting' }, 100)).toBe(true);
    expect(depositInFlight({ token: T, amount: '5', status: 'minting', mintBlock: 100 }, 100)).toBe(false);
    expect(depositInFlight({ token: T, amount: '5', status: 'minted', mintBlock: 101 }, 100)).toBe(true);
    expect(depositInFlight({ token: T, amount: '5', status: 'refunding' }, 100)).toBe(true);
    expect(depositInFlight({ token: T, amount: '5', status: 'refunded' }, 100)).toBe(false);
    expect(depositInFlight({ token: T, amount: '5', status: 'receiving' }, 100)).toBe(false);
  });

  it('counts a burn up to B in flight until it is released', () => {
    expect(withdrawalInFlight({ token: T, amount: '3', status: 'proven', blockNumber: 90 }, 100)).toBe(true);
    expect(withdrawalInFlight({ token: T, amount: '3', status: 'releasing', blockNumber: 90 }, 100)).toBe(
      true,
    );
    expect(withdrawalInFlight({ token: T, amount: '3', status: 'released', blockNumber: 90 }, 100)).toBe(
      false,
    );
  });

  it('balances when everything is accounted for', () => {
    const result = checkInvariant({
      ...base,
      dsmBalance: 100n,
      wrappedSupply: 80n,
      deposits: [
        { token: T, amount: '15', status: 'minting' },
        { token: T, amount: '50', status: 'minted', mintBlock: 40 },
        { token: 'other', amount: '999', status: 'received' },
      ],
      withdrawals: [{ token: T, amount: '5', status: 'proven', blockNumber: 99 }],
    });
    expect(result).toEqual({
      ...base,
      token: T,
      dsmBalance: '100',
      wrappedSupply: '80',
      inFlight: '20',
      gap: '0',
    });
  });

  it('reports a gap in either direction', () => {
    const minted = { token: T, amount: '10', status: 'minted' as const, mintBlock: 1 };
    expect(
      checkInvariant({ ...base, dsmBalance: 10n, wrappedSupply: 20n, deposits: [minted], withdrawals: [] })
        .gap,
    ).toBe('-10');
    expect(
      checkInvariant({ ...base, dsmBalance: 25n, wrappedSupply: 20n, deposits: [minted], withdrawals: [] })
        .gap,
    ).toBe('5');
  });
});
