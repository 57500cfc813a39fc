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

/** What is printed for an error, whatever threw it. */
export interface ErrorReport {
  code: string;
  message: string;
  details: Record<string, unknown>;
  exitCode: number;
}

export function reportOf(error: unknown): ErrorReport {
  if (error instanceof UsageError) {
    return { code: error.code, message: error.message, details: { ...error.details }, exitCode: EXIT_USAGE };
  }
  if (error instanceof DsmError) {
    return {
      code: error.code,
      message: error.message,
      details: { ...error.details },
      exitCode: EXIT_FAILURE,
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
