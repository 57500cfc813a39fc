/**
 * Schemas for path and query parameters, which arrive as text (or, for a repeated query
 * parameter, as an array). `z.coerce.number()` reads `0x1`, `1e4`, ` 5`, `+5`, `05` and `5.0`
 * as numbers, so one value would have many spellings; these accept exactly one spelling each.
 */
import { DsmError } from '@dsm/protocol';
import { z } from 'zod';

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const MAX_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

export interface IntParamOptions {
  /** Smallest accepted value; default 0. */
  min?: number;
  /** Largest accepted value; default `Number.MAX_SAFE_INTEGER`. */
  max?: number;
}

/** The message for a missing, repeated (`?limit=1&limit=2` arrives as an array) or mistyped value. */
function wrongValue(expected: string) {
  return (issue: { input?: unknown }): string =>
    issue.input === undefined
      ? 'required'
      : Array.isArray(issue.input)
        ? `given more than once; expected ${expected}`
        : `expected ${expected}`;
}

/**
 * A non-negative integer written in canonical decimal (`0`, `42`; not `042`, `+42`, `4.2e1`),
 * within `[min, max]`, parsed to a number: `limit: intParam({ min: 1, max: 10_000 }).default(100)`.
 */
export function intParam({ min = 0, max = Number.MAX_SAFE_INTEGER }: IntParamOptions = {}) {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || min > max)
    throw new RangeError(`intParam bounds must be safe integers with 0 <= min <= max, got [${min}, ${max}]`);
  const expected = 'a decimal integer';
  return (
    z
      .string({ error: wrongValue(expected) })
      // Before the pattern, so a megabyte of digits costs nothing; 16 digits hold every safe integer.
      .max(MAX_DIGITS, { message: `expected ${expected} of at most ${MAX_DIGITS} digits`, abort: true })
      .regex(DECIMAL, `expected ${expected} without sign, spaces or leading zeros`)
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
  );
}

/** `true` or `false`, nothing else (`1`, `yes`, `TRUE` and an empty value are refused). */
export function booleanParam() {
  return z
    .enum(['true', 'false'], { error: wrongValue('true or false') })
    .transform((value) => value === 'true');
}

/** A non-negative integer below 2^64 in canonical decimal, as a bigint (sequence numbers). */
export function u64Param() {
  const expected = 'a decimal integer below 2^64';
  return z
    .string({ error: wrongValue(expected) })
    .max(20, { message: `expected ${expected}`, abort: true })
    .regex(DECIMAL, `expected ${expected} without sign, spaces or leading zeros`)
    .transform(BigInt)
    .refine((value) => value < 1n << 64n, `expected ${expected}`);
}

/**
 * `value` (a request's query, params or JSON body) parsed with `schema`; otherwise E_BAD_REQUEST whose
 * message and `details.field` name the first offending field (`body` for the value as a whole).
 */
export function parseParams<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  throw new DsmError('E_BAD_REQUEST', `${field}: ${issue.message}`, { field });
}
