/**
 * How the CLI fails: a usage error (bad command line, exit 2) or any other error (exit 1), each with a
 * stable code. Service errors keep the code the service sent (`DsmError` from `HttpClient`).
 */
import { DsmError, type ErrorDetails } from '@dsm/protocol';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line itself is wrong: a bad option value, a missing option, an unknown command. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'E_USAGE';
  constructor(
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

/**
 * A state-changing command that got no answer (E_UNAVAILABLE: unreachable, timed out, 503 after the
 * retries) may or may not have happened. Its error carries the command's idempotency key, since running
 * the command again with that key is safe: the core answers with the first outcome if there was one.
 */
export function withIdempotencyKey(error: unknown, key: string): unknown {
  if (!(error instanceof DsmError) || error.code !== 'E_UNAVAILABLE') return error;
  return new DsmError(error.code, error.message, { ...error.details, idempotencyKey: key });
}

/** What is printed for an error, whatever threw it. */
export interface ErrorReport {
  code: string;
  message: string;
  details: Record<string, unknown>;
  exitCode: number;
  /** A line for people on what to do next (not in the JSON document: `details` has the facts). */
  hint?: string;
}

export function reportOf(error: unknown): ErrorReport {
  if (error instanceof UsageError) {
    return { code: error.code, message: error.message, details: { ...error.details }, exitCode: EXIT_USAGE };
  }
  if (error instanceof DsmError) {
    const key = error.details.idempotencyKey;
    return {
      code: error.code,
      message: error.message,
      details: { ...error.details },
      exitCode: EXIT_FAILURE,
      ...(error.code === 'E_UNAVAILABLE' && typeof key === 'string'
        ? { hint: `the outcome is unknown: run the same command again with --idempotency-key ${key}` }
        : {}),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  return {
    code: 'E_INTERNAL',
    message,
    details: typeof errno === 'string' ? { errno } : {},
    exitCode: EXIT_FAILURE,
  };
}
