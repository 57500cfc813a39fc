import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import { refusalOf } from './apply.js';

const answer = (code: number, message?: string) =>
  new ApiException(code, `PATCH /x: HTTP ${code}`, message === undefined ? 'not json' : { message }, {});

describe('refusalOf', () => {
  it("is the apiserver's 4xx answer with its own message", () => {
    expect(refusalOf(answer(403, 'forbidden: cannot patch'))).toEqual({
      code: 403,
      message: 'forbidden: cannot patch',
    });
    expect(refusalOf(answer(422, 'Invalid value'))).toEqual({ code: 422, message: 'Invalid value' });
    expect(refusalOf(answer(400))).toEqual({ code: 400, message: 'not json' });
  });

  it('leaves conflicts, throttling, server errors and errors without an answer to the backoff', () => {
    for (const code of [409, 429, 500, 503])
      expect([code, refusalOf(answer(code, 'x'))]).toEqual([code, undefined]);
    expect(refusalOf(new Error('ECONNRESET'))).toBeUndefined();
  });
});
