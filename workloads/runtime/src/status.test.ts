import { describe, expect, it } from '@jest/globals';
import { PROTOCOL_ERROR_CODES, SERVICE_ERROR_CODES } from '@dsm/protocol';
import { codeForHttpStatus, httpStatusFor, isKnownErrorCode } from './status.js';

describe('httpStatusFor', () => {
  it('maps every protocol rejection to 400, except a fork to 409', () => {
    for (const code of PROTOCOL_ERROR_CODES) {
      expect([code, httpStatusFor(code)]).toEqual([code, code === 'E_FORK' ? 409 : 400]);
    }
  });

  it('maps the service codes to their statuses', () => {
    const expected: Record<(typeof SERVICE_ERROR_CODES)[number], number> = {
      E_UNAVAILABLE: 503,
      E_UNAUTHORIZED: 401,
      E_FORBIDDEN: 403,
      E_NOT_FOUND: 404,
      E_CONFLICT: 409,
      E_BAD_REQUEST: 400,
      E_TOO_LARGE: 413,
      E_UNSUPPORTED_MEDIA_TYPE: 415,
      E_CONFIG: 400,
      E_INTERNAL: 500,
      E_PROOF: 502,
      E_REORG: 503,
      E_BACKUP: 422,
    };
    for (const code of SERVICE_ERROR_CODES)
      expect([code, httpStatusFor(code)]).toEqual([code, expected[code]]);
  });

  it('round-trips service statuses through codeForHttpStatus', () => {
    for (const code of [
      'E_BAD_REQUEST',
      'E_UNAUTHORIZED',
      'E_FORBIDDEN',
      'E_NOT_FOUND',
      'E_CONFLICT',
      'E_TOO_LARGE',
    ] as const) {
      expect(codeForHttpStatus(httpStatusFor(code))).toBe(code);
    }
    expect(codeForHttpStatus(503)).toBe('E_UNAVAILABLE');
    expect(codeForHttpStatus(502)).toBe('E_UNAVAILABLE');
    expect(codeForHttpStatus(418)).toBe('E_BAD_REQUEST');
    // What serve() answers for requests Node's parser refuses: headers too large, sent too slowly.
    expect(codeForHttpStatus(431)).toBe('E_TOO_LARGE');
    expect(codeForHttpStatus(408)).toBe('E_BAD_REQUEST');
    expect(codeForHttpStatus(500)).toBe('E_INTERNAL');
  });

  it('knows exactly the protocol and service codes', () => {
    expect(isKnownErrorCode('E_FORK')).toBe(true);
    expect(isKnownErrorCode('E_UNAVAILABLE')).toBe(true);
    expect(isKnownErrorCode('E_SOMETHING_NEW')).toBe(false);
    expect(isKnownErrorCode(42)).toBe(false);
  });
});
