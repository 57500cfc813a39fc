/**
 * Kubernetes resource quantities as exact fractions, so `1Gi` equals `1073741824` and `0.5` equals `500m`:
 * the apiserver rewrites quantities into its canonical form, and a comparison of strings would see a change
 * on every resync.
 */
export interface Fraction {
  num: bigint;
  den: bigint;
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };

/** The exact value of a quantity, or undefined when `value` is not one. */
export function parseQuantity(value: string | number): Fraction | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value.trim();
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const [, sign, mantissa = '', exponent, suffix] = m;
  const [whole = '', fraction = ''] = mantissa.split('.');
  let num = BigInt((whole || '0') + fraction) * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(fraction.length);
  let power = exponent !== undefined ? Number(exponent) : suffix ? (DECIMAL[suffix] ?? 0) : 0;
  if (suffix && BINARY[suffix] !== undefined) {
    num *= 1024n ** BigInt(BINARY[suffix]);
    power = 0;
  }
  if (power >= 0) num *= 10n ** BigInt(power);
  else den *= 10n ** BigInt(-power);
  return { num, den };
}

/** Whether two quantities have the same value; false when either is not a quantity. */
export function sameQuantity(a: string | number, b: string | number): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined && x.num * y.den === y.num * x.den;
}
