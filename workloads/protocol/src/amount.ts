/** Amounts are decimal text on the wire (`^(0|[1-9][0-9]*)$`, ≤ 2^256−1) and bigint in memory. */
import { decodeError } from './errors.js';

export const MAX_AMOUNT = (1n << 256n) - 1n;
const AMOUNT_TEXT = /^(0|[1-9][0-9]*)$/;

export function isAmountText(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length <= 78 && AMOUNT_TEXT.test(value) && BigInt(value) <= MAX_AMOUNT
  );
}

/** Parses amount text; throws E_DECODE naming `field`. With `positive`, "0" is rejected too. */
export function parseAmount(value: unknown, field: string, positive = false): bigint {
  if (!isAmountText(value)) {
    throw decodeError(
      field,
      'must be an amount: decimal text without sign or leading zeros, at most 2^256-1',
    );
  }
  const amount = BigInt(value);
  if (positive && amount === 0n) throw decodeError(field, 'must be greater than 0');
  return amount;
}

export function formatAmount(amount: bigint): string {
  if (amount < 0n || amount > MAX_AMOUNT) throw new RangeError(`amount out of range: ${amount}`);
  return amount.toString(10);
}
