import { describe, expect, it } from '@jest/globals';
import { MAX_MEMO_BYTES, depositMemo, parseDepositMemo, refundMemo, releaseMemo } from './memo.js';

const address = '0x' + 'aB'.repeat(20);

describe('deposit memos', () => {
  it('reads the chain and recipient, the address in any case', () => {
    expect(parseDepositMemo(`evm:31337:${address}`, 31337)).toEqual({
      ok: true,
      chainId: 31337,
      recipient: address.toLowerCase(),
    });
    expect(parseDepositMemo(depositMemo(1, address), 1)).toMatchObject({
      ok: true,
      recipient: address.toLowerCase(),
    });
  });

  it.each([
    [undefined, /no memo/],
    ['hello', /malformed memo/],
    ['evm:31337:0x1234', /malformed EVM address/],
    [`evm:31337:${address}00`, /malformed EVM address/],
    [`evm:031337:${address}`, /malformed memo/],
    [`evm:1:${address}`, /wrong chain: this bridge serves chain 31337, not 1/],
    ['evm:31337:0x' + '0'.repeat(40), /zero address/],
    [` evm:31337:${address}`, /malformed memo/],
  ])('refuses %p', (memo, reason) => {
    const parsed = parseDepositMemo(memo, 31337);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('memos the bridge writes', () => {
  it('names the burn a release pays out', () => {
    expect(releaseMemo(31337, '0x' + 'AB'.repeat(32), 3)).toBe(`evm:31337:0x${'ab'.repeat(32)}:3`);
  });

  it('keeps a refund within 256 bytes without splitting a character', () => {
    expect(refundMemo('wrong chain')).toBe('refund:wrong chain');
    const long = refundMemo('é'.repeat(300));
    expect(Buffer.byteLength(long, 'utf8')).toBeLessThanOrEqual(MAX_MEMO_BYTES);
    expect(long.endsWith('é')).toBe(true);
  });
});
