import { describe, expect, it } from '@jest/globals';
import { sameBurn } from './same-burn.js';

const burn = {
  nonce: '7',
  wrapped: '0x' + 'aB'.repeat(20),
  from: '0x' + 'cd'.repeat(20),
  amount: '500',
  recipient: 'bafyr4irecipient',
};

describe('the same burn seen twice', () => {
  it('is recognised by its nonce and content, whatever the address case', () => {
    expect(
      sameBurn(burn, { ...burn, wrapped: burn.wrapped.toLowerCase(), from: burn.from.toUpperCase() }),
    ).toBe(true);
  });

  it.each([
    ['nonce', { nonce: '8' }],
    ['token', { wrapped: '0x' + '11'.repeat(20) }],
    ['sender', { from: '0x' + '22'.repeat(20) }],
    ['amount', { amount: '501' }],
    ['recipient', { recipient: 'bafyr4iother' }],
  ])('is another burn when the %s differs (a new chain numbered its burns differently)', (_what, change) => {
    expect(sameBurn(burn, { ...burn, ...change })).toBe(false);
  });
});
