/**
 * The one place where DSM error codes meet HTTP status codes, in both directions:
 * servers answer with `httpStatusFor(code)`, clients fall back to `codeForHttpStatus(status)`
 * when a response carries no `{error: {code}}` body (a proxy, a foreign server).
 */
import { PROTOCOL_ERROR_CODES, SERVICE_ERROR_CODES, type DsmErrorCode } from '@dsm/protocol';

const EXPLICIT: Partial<Record<DsmErrorCode, number>> = {
  E_BAD_REQUEST: 400,
  // A config value is only judged over HTTP when an admin sends one (a bad value at start-up
  // exits before the server listens), so it is the caller's mistake, not ours.
  E_CONFIG: 400,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  E_FORK: 409,
  E_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_INTERNAL: 500,
  E_UNAVAILABLE: 503,
  // The EVM node gave the bridge evidence that does not verify: an upstream fault, not the caller's.
  E_PROOF: 502,
  E_REORG: 503,
  // The archive arrived whole but its content does not verify.
  E_BACKUP: 422,
};

const PROTOCOL_CODES: ReadonlySet<string> = new Set(PROTOCOL_ERROR_CODES);
const KNOWN_CODES: ReadonlySet<string> = new Set([...PROTOCOL_ERROR_CODES, ...SERVICE_ERROR_CODES]);

/** Every protocol rejection is the client's request being invalid (400), except a fork (409). */
export function httpStatusFor(code: DsmErrorCode): number {
  return EXPLICIT[code] ?? (PROTOCOL_CODES.has(code) ? 400 : 500);
}

export function isKnownErrorCode(value: unknown): value is DsmErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

/** Best code for a bare HTTP status; the inverse of `httpStatusFor` on service codes. */
export function codeForHttpStatus(status: number): DsmErrorCode {
  switch (status) {
    case 400:
      return 'E_BAD_REQUEST';
    case 401:
      return 'E_UNAUTHORIZED';
    case 403:
      return 'E_FORBIDDEN';
    case 404:
      return 'E_NOT_FOUND';
    case 409:
      return 'E_CONFLICT';
    case 413:
    case 431: // request headers too large
      return 'E_TOO_LARGE';
    case 415:
      return 'E_UNSUPPORTED_MEDIA_TYPE';
    case 502:
    case 503:
    case 504:
      return 'E_UNAVAILABLE';
    default:
      return status >= 400 && status < 500 ? 'E_BAD_REQUEST' : 'E_INTERNAL';
  }
}
