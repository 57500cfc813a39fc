/**
 * One error type for every rejection, with the stable codes of protocol.md §8.
 * Services add their own codes; HTTP mapping lives in @dsm/runtime, in one place.
 */
export const PROTOCOL_ERROR_CODES = [
  'E_DECODE',
  'E_LINK',
  'E_ENTROPY',
  'E_SIGNATURE',
  'E_CLOCK',
  'E_UNKNOWN_TOKEN',
  'E_POLICY_UNAVAILABLE',
  'E_POLICY',
  'E_OPERATION',
  'E_RECEIVE',
  'E_DUPLICATE_RECEIVE',
  'E_BALANCE',
  'E_FORK',
] as const;

export const SERVICE_ERROR_CODES = [
  'E_UNAVAILABLE',
  'E_UNAUTHORIZED',
  'E_FORBIDDEN',
  'E_NOT_FOUND',
  'E_CONFLICT',
  'E_BAD_REQUEST',
  'E_TOO_LARGE',
  'E_UNSUPPORTED_MEDIA_TYPE',
  'E_CONFIG',
  'E_INTERNAL',
  // Bridge: EVM evidence (a block header, a receipts trie, a receipt proof) that does not verify, and a
  // reorganisation deeper than the confirmation depth, which stops the bridge.
  'E_PROOF',
  'E_REORG',
  // A backup archive or snapshot that does not verify (altered, truncated, not what its manifest says):
  // refused whole, nothing of it kept.
  'E_BACKUP',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];
export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];
export type DsmErrorCode = ProtocolErrorCode | ServiceErrorCode;

/** Structured context of a rejection: which field, state, condition. JSON-safe values only. */
export type ErrorDetails = Record<string, string | number | boolean | null | string[] | undefined>;

export class DsmError extends Error {
  override readonly name = 'DsmError';
  constructor(
    readonly code: DsmErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }

  toJSON(): { code: DsmErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isDsmError(value: unknown, code?: DsmErrorCode): value is DsmError {
  return value instanceof DsmError && (code === undefined || value.code === code);
}

/** Throws a DsmError when `condition` is false (ethers-style `assert`). */
export function check(
  condition: unknown,
  code: DsmErrorCode,
  message: string,
  details?: ErrorDetails,
): asserts condition {
  if (!condition) throw new DsmError(code, message, details);
}

export function decodeError(field: string, message: string, details: ErrorDetails = {}): DsmError {
  return new DsmError('E_DECODE', `${field}: ${message}`, { field, ...details });
}
