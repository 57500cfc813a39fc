/**
 * Query and path parameters of the HTTP API, parsed strictly: integers only in canonical decimal (`0`, `17`;
 * not `0x1`, `1e4`, `01`, ` 5`), flags only `true` or `false`, and a parameter given twice is refused
 * rather than guessed at. Pure; a bad value is E_BAD_REQUEST naming the field.
 */
import { DsmError } from '@dsm/protocol';
import { z } from 'zod';

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const DECIMAL_MESSAGE = 'must be a decimal integer (digits only, no sign, leading zero or exponent)';

/** A canonical decimal integer in [min, max] (max at most Number.MAX_SAFE_INTEGER). */
export function decimalInt(min: number, max: number) {
  return z.string().regex(DECIMAL, DECIMAL_MESSAGE).transform(Number).pipe(z.number().min(min).max(max));
}

/** A canonical decimal unsigned 64-bit integer, as a bigint. */
export const decimalU64 = z
  .string()
  .regex(DECIMAL, DECIMAL_MESSAGE)
  .max(20)
  .transform(BigInt)
  .refine((value) => value < 1n << 64n, 'must fit in 64 bits');

/** `true` or `false`, nothing else. */
export const flag = z.enum(['true', 'false'], 'must be true or false').transform((value) => value === 'true');

/** Parses `req.query` or `req.params` with `schema`. */
export function parseParams<T extends z.ZodObject>(schema: T, values: Record<string, unknown>): z.output<T> {
  for (const [field, value] of Object.entries(values))
    if (Array.isArray(value))
      throw new DsmError('E_BAD_REQUEST', `${field} is given more than once`, { field });
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.');
    throw new DsmError('E_BAD_REQUEST', `${field}: ${issue.message}`, { field });
  }
  return parsed.data;
}
