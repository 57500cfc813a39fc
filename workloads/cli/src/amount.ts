/**
 * Amounts as people write them, in a token's decimals ("25.50" of a token with 2 decimals), and as the
 * wire counts them, in base units (2550n). Exact: digits are moved, never multiplied as floats.
 */
import { MAX_AMOUNT } from '@dsm/protocol';

/**
 * Digits with an optional point followed by at least one digit. No sign, exponent, grouping, spaces,
 * leading zeros (as the wire's base-unit text), nor a bare "1." or ".5": one spelling per value's digits.
 */
const DECIMAL_TEXT = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export function isDecimalText(text: string): boolean {
  return DECIMAL_TEXT.test(text);
}

function checkDecimals(decimals: number): void {
  if (!Number.isSafeInteger(decimals) || decimals < 0) throw new RangeError(`bad decimals: ${decimals}`);
}

/**
 * Base units of `text` for a token with `decimals`; undefined when `text` is not decimal text, has
 * more fractional digits than the token (even zeros: "25.000" of a 2-decimal token is a typo to report),
 * or exceeds the protocol's maximum amount.
 */
export function parseUnits(text: string, decimals: number): bigint | undefined {
  checkDecimals(decimals);
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (fraction.length > decimals) return undefined;
  const units = BigInt(whole + fraction.padEnd(decimals, '0'));
  return units <= MAX_AMOUNT ? units : undefined;
}

/** `units` in the token's decimals, always with all of them: 2500n with 2 decimals is "25.00". */
export function formatUnits(units: bigint, decimals: number): string {
  checkDecimals(decimals);
  if (units < 0n) throw new RangeError(`negative amount: ${units}`);
  if (decimals === 0) return units.toString();
  const digits = units.toString().padStart(decimals + 1, '0');
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}
