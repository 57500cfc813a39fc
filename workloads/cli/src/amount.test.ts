import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_AMOUNT } from '@dsm/protocol';
import { formatUnits, isDecimalText, parseUnits } from './amount.js';

const decimals = fc.integer({ min: 0, max: 36 });
const units = fc.bigInt({ min: 0n, max: MAX_AMOUNT });
const digits = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength });
/** Decimal text with at most `max` fractional digits (whole part without leading zeros). */
const decimalText = (max: number) =>
  fc
    .tuple(
      fc.oneof(
        fc.constant('0'),
        fc.tuple(fc.constantFrom(...'123456789'), digits(0, 20)).map((p) => p.join('')),
      ),
      digits(0, max),
    )
    .map(([whole, fraction]) => (fraction === '' ? whole : `${whole}.${fraction}`));

describe('parseUnits and formatUnits', () => {
  it('convert between decimal text and base units', () => {
    expect(parseUnits('25', 2)).toBe(2500n);
    expect(parseUnits('25.5', 2)).toBe(2550n);
    expect(parseUnits('25.00', 2)).toBe(2500n);
    expect(parseUnits('0.05', 2)).toBe(5n);
    expect(parseUnits('1000', 0)).toBe(1000n);
    expect(formatUnits(2500n, 2)).toBe('25.00');
    expect(formatUnits(5n, 2)).toBe('0.05');
    expect(formatUnits(0n, 2)).toBe('0.00');
    expect(formatUnits(0n, 0)).toBe('0');
    expect(formatUnits(1n, 36)).toBe(`0.${'0'.repeat(35)}1`);
  });

  it('round-trip every amount at every number of decimals', () => {
    fc.assert(fc.property(units, decimals, (u, d) => parseUnits(formatUnits(u, d), d) === u));
  });

  it('print what was parsed with all the decimals of the token', () => {
    fc.assert(
      fc.property(
        decimals.chain((d) => fc.tuple(fc.constant(d), decimalText(d))),
        ([d, text]) => {
          const [whole, fraction = ''] = text.split('.');
          const padded = d === 0 ? whole : `${whole}.${fraction.padEnd(d, '0')}`;
          expect(formatUnits(parseUnits(text, d)!, d)).toBe(padded);
        },
      ),
    );
  });

  it('scale by ten per extra decimal', () => {
    fc.assert(
      fc.property(
        decimalText(6),
        fc.integer({ min: 6, max: 20 }),
        fc.integer({ min: 0, max: 10 }),
        (t, d, k) => {
          expect(parseUnits(t, d + k)).toBe(parseUnits(t, d)! * 10n ** BigInt(k));
        },
      ),
    );
  });

  it('refuse more fractional digits than the token has, zeros included', () => {
    expect(parseUnits('25.000', 2)).toBeUndefined();
    expect(parseUnits('25.0', 0)).toBeUndefined();
    fc.assert(
      fc.property(decimals, digits(1, 6), digits(1, 40), (d, whole, extra) => {
        const text = `${BigInt(whole)}.${extra}`;
        return extra.length > d === (parseUnits(text, d) === undefined);
      }),
    );
  });

  it.each([
    '',
    '1e3',
    '1E3',
    '-1',
    '+1',
    '.5',
    '1.',
    ' 1',
    '1 ',
    '1 000',
    '1,000',
    '1_000',
    '01',
    '00.5',
    '0x10',
    '1.2.3',
    'NaN',
    'Infinity',
    '１',
    '2,5',
  ])('refuse %j', (text) => {
    expect(isDecimalText(text)).toBe(false);
    expect(parseUnits(text, 2)).toBeUndefined();
  });

  it('refuse any text with a character that is not a digit or a point', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /[^0-9.]/.test(s)),
        (s) => {
          return parseUnits(s, 18) === undefined;
        },
      ),
    );
  });

  it('refuse amounts above the protocol maximum', () => {
    expect(parseUnits(MAX_AMOUNT.toString(), 0)).toBe(MAX_AMOUNT);
    expect(parseUnits((MAX_AMOUNT + 1n).toString(), 0)).toBeUndefined();
    expect(parseUnits(`${MAX_AMOUNT}.0`, 1)).toBeUndefined();
  });

  it('refuse impossible decimals and negative amounts (programming errors)', () => {
    expect(() => parseUnits('1', -1)).toThrow(RangeError);
    expect(() => formatUnits(1n, 1.5)).toThrow(RangeError);
    expect(() => formatUnits(-1n, 2)).toThrow(RangeError);
  });
});
