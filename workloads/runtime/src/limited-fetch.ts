/**
 * A `fetch` whose response bodies are cut at a byte limit: reading past it fails with E_TOO_LARGE and the
 * connection is dropped, so a peer cannot make this node buffer more than it meant to read. Decompressed
 * bytes are what count.
 */
import { DsmError } from '@dsm/protocol';

const NO_BODY = new Set([101, 204, 205, 304]);

export function limitedFetch(maxBytes: number, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    const tooLarge = () =>
      new DsmError('E_TOO_LARGE', `the answer to ${describe(input)} is over ${maxBytes} bytes`, {
        limit: maxBytes,
      });
    if (response.body === null || NO_BODY.has(response.status)) return response;
    if (Number(response.headers.get('content-length')) > maxBytes) {
      await response.body.cancel();
      throw tooLarge();
    }
    let seen = 0;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) controller.error(tooLarge());
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function describe(input: string | URL | Request): string {
  const url = new URL(input instanceof Request ? input.url : input);
  return `${url.origin}${url.pathname}`;
}
