/**
 * How services (and the CLI) call each other: fetch with a deadline per attempt, retries with
 * exponential backoff and full jitter where a retry cannot do harm, and every failure surfaced
 * as a DsmError: the server's own `{error: {code, message, details}}` when it sent one,
 * E_UNAVAILABLE when the peer could not be reached or did not answer in time. A POST with an
 * `Idempotency-Key` is retried like a GET: the server answers a repeat with the first outcome.
 */
import { DsmError, type DsmErrorCode, type ErrorDetails } from '@dsm/protocol';
import type { z } from 'zod';
import { DAG_CBOR } from './media.js';
import { codeForHttpStatus, isKnownErrorCode } from './status.js';

export interface ClientOptions {
  baseUrl: string | URL;
  /** Sent as `Authorization: Bearer <token>` (admin endpoints). */
  token?: string;
  /** Deadline of one attempt, headers and body included. Default 10 s. */
  timeoutMs?: number;
  /** Extra attempts after the first, for retryable failures only. Default 2. */
  retries?: number;
  /** First backoff ceiling; doubles each retry up to `maxDelayMs`. Default 100 ms. */
  baseDelayMs?: number;
  /** Default 2 s. */
  maxDelayMs?: number;
  headers?: Record<string, string>;
  /** For tests or a custom dispatcher; the global fetch by default. */
  fetch?: typeof fetch;
}

export type ResponseKind = 'json' | 'bytes' | 'text';

export interface RequestOptions<T = unknown> {
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON request body. */
  json?: unknown;
  /** Raw request body (DAG-CBOR by default, see `contentType`). */
  bytes?: Uint8Array;
  contentType?: string;
  /** How to read a successful response. Default 'json' (an empty body is `undefined`). */
  responseType?: ResponseKind;
  /** Validates a JSON response; a mismatch is an E_INTERNAL error (the peer broke its contract). */
  schema?: z.ZodType<T>;
  /**
   * Sent as the `Idempotency-Key` header (IETF httpapi draft: a structured-field string), the same on
   * every attempt, and makes the request idempotent: timeouts, resets, 429 and 502/503/504 are retried.
   */
  idempotencyKey?: string;
  /**
   * Override the default: GET, HEAD, PUT, DELETE, OPTIONS and any request carrying an
   * `Idempotency-Key` header are idempotent.
   */
  idempotent?: boolean;
  timeoutMs?: number;
  retries?: number;
  headers?: Record<string, string>;
  /** Cancels the request and its retries; its reason is rethrown as is. */
  signal?: AbortSignal;
}

export interface ClientResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

interface Failure {
  error: DsmError;
  /** Safe to send again: the server did not act on it, or acting twice is harmless. */
  retryable: boolean;
  retryAfterMs?: number;
}

export class HttpClient {
  private readonly baseUrl: URL;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = new URL(options.baseUrl);
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  get<T = unknown>(path: string, options: RequestOptions<T> = {}): Promise<T> {
    return this.body('GET', path, options);
  }

  post<T = unknown>(path: string, json: unknown, options: RequestOptions<T> = {}): Promise<T> {
    return this.body('POST', path, { ...options, json });
  }

  put<T = unknown>(path: string, json: unknown, options: RequestOptions<T> = {}): Promise<T> {
    return this.body('PUT', path, { ...options, json });
  }

  delete<T = unknown>(path: string, options: RequestOptions<T> = {}): Promise<T> {
    return this.body('DELETE', path, options);
  }

  getBytes(path: string, options: RequestOptions<Uint8Array> = {}): Promise<Uint8Array> {
    return this.body('GET', path, { ...options, responseType: 'bytes' });
  }

  postBytes<T = unknown>(path: string, bytes: Uint8Array, options: RequestOptions<T> = {}): Promise<T> {
    return this.body('POST', path, { ...options, bytes });
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions<T> = {},
  ): Promise<ClientResponse<T>> {
    const upper = method.toUpperCase();
    const retries = options.retries ?? this.options.retries ?? 2;
    const url = this.url(path, options.query);
    // Built once: every attempt sends the same headers (the same key) and the same body.
    const init = this.init(upper, options);
    const idempotent = options.idempotent ?? (IDEMPOTENT.has(upper) || hasIdempotencyKey(init.headers));
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt<T>(url, init, idempotent, options);
      if ('body' in outcome) return outcome;
      if (!outcome.retryable || attempt >= retries) throw outcome.error;
      await sleep(Math.max(this.backoff(attempt), outcome.retryAfterMs ?? 0), options.signal);
    }
  }

  /**
   * One request whose body and answer are streams (backups): sent once, never retried (a stream cannot be
   * sent again), with `timeoutMs` as the deadline for the answer's headers only, so a long transfer is not
   * cut off. Returns the successful response with its body unread; a failure is a DsmError as for `request`.
   */
  async stream(
    method: string,
    path: string,
    options: {
      body?: AsyncIterable<Uint8Array>;
      contentType?: string;
      accept?: string;
      timeoutMs?: number;
    } = {},
  ): Promise<Response> {
    const url = this.url(path, undefined);
    const { headers } = this.init(method.toUpperCase(), {});
    if (options.accept !== undefined) headers.accept = options.accept;
    if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    const target = `${method.toUpperCase()} ${url.origin}${url.pathname}`;
    const controller = new AbortController();
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 10_000;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: method.toUpperCase(),
        headers,
        signal: controller.signal,
        ...(options.body !== undefined
          ? {
              body: ReadableStream.from(options.body) as unknown as RequestInit['body'],
              duplex: 'half' as const,
            }
          : {}),
      } as RequestInit);
    } catch (err) {
      const cause = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : networkCause(err);
      throw new DsmError('E_UNAVAILABLE', `${target}: ${cause}`, { url: url.href, cause });
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw (await failureFrom(response, false, target)).error;
    return response;
  }

  private async body<T>(method: string, path: string, options: RequestOptions<T>): Promise<T> {
    return (await this.request<T>(method, path, options)).body;
  }

  private async attempt<T>(
    url: URL,
    init: RequestInit,
    idempotent: boolean,
    options: RequestOptions<T>,
  ): Promise<ClientResponse<T> | Failure> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const target = `${init.method} ${url.origin}${url.pathname}`;
    try {
      const response = await this.fetch(url, { ...init, signal });
      if (!response.ok) return await failureFrom(response, idempotent, target);
      return {
        status: response.status,
        headers: response.headers,
        body: await readBody(response, options, target),
      };
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (err instanceof DsmError) return { error: err, retryable: false };
      if (timeout.aborted) {
        const error = new DsmError('E_UNAVAILABLE', `${target}: no answer within ${timeoutMs} ms`, {
          url: url.href,
          timeoutMs,
        });
        return { error, retryable: idempotent };
      }
      const cause = networkCause(err);
      const error = new DsmError('E_UNAVAILABLE', `${target}: ${cause}`, { url: url.href, cause });
      // A refused connection never reached the server: safe to resend even a POST.
      return { error, retryable: idempotent || cause === 'ECONNREFUSED' };
    }
  }

  private url(path: string, query: RequestOptions['query']): URL {
    const base = this.baseUrl.href.endsWith('/') ? this.baseUrl.href : `${this.baseUrl.href}/`;
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  private init(
    method: string,
    options: RequestOptions<unknown>,
  ): RequestInit & { headers: Record<string, string> } {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    let body: string | Uint8Array | undefined;
    if (options.bytes !== undefined) {
      body = options.bytes;
      headers['content-type'] = options.contentType ?? DAG_CBOR;
    } else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    if (options.responseType === 'bytes')
      headers.accept = `${DAG_CBOR}, application/octet-stream, application/json`;
    if (options.idempotencyKey !== undefined) {
      headers['idempotency-key'] = idempotencyKeyHeader(options.idempotencyKey);
    }
    return { method, headers: { ...headers, ...options.headers }, body };
  }

  /** Full jitter: uniform in [0, min(max, base · 2^attempt)], so retrying clients spread out. */
  private backoff(attempt: number): number {
    const base = this.options.baseDelayMs ?? 100;
    const max = this.options.maxDelayMs ?? 2000;
    return Math.random() * Math.min(max, base * 2 ** attempt);
  }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * The `Idempotency-Key` field value for `key`: an RFC 8941 string (quoted, `\` and `"` escaped), as
 * the IETF httpapi draft defines the field. Only printable ASCII fits in one.
 */
function idempotencyKeyHeader(key: string): string {
  if (!PRINTABLE_ASCII.test(key)) {
    throw new DsmError('E_BAD_REQUEST', 'an idempotency key is 1 or more printable ASCII characters', {
      field: 'idempotencyKey',
    });
  }
  return `"${key.replace(/[\\"]/g, '\\$&')}"`;
}

function hasIdempotencyKey(headers: Record<string, string>): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase() === 'idempotency-key');
}

async function readBody<T>(response: Response, options: RequestOptions<T>, target: string): Promise<T> {
  const kind = options.responseType ?? 'json';
  if (kind === 'bytes') return new Uint8Array(await response.arrayBuffer()) as T;
  const text = await response.text();
  if (kind === 'text') return text as T;
  if (text === '') return undefined as T;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DsmError('E_INTERNAL', `${target}: response is not JSON`, { status: response.status });
  }
  if (options.schema === undefined) return value as T;
  const parsed = options.schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(body)';
    throw new DsmError(
      'E_INTERNAL',
      `${target}: unexpected response at ${where}: ${issue?.message ?? 'invalid'}`,
      {
        status: response.status,
        field: where,
      },
    );
  }
  return parsed.data;
}

async function failureFrom(response: Response, idempotent: boolean, target: string): Promise<Failure> {
  const status = response.status;
  const text = await response.text().catch(() => '');
  const error =
    parseErrorBody(text, status) ??
    new DsmError(codeForHttpStatus(status), `${target}: HTTP ${status}`, { status });
  // A DSM 503 means "outcome unknown" (the work may be pending and finish by itself), so like gateway
  // errors and 429 it is retried only when sending the request twice is harmless.
  const retryable = idempotent && (status === 503 || status === 429 || status === 502 || status === 504);
  const retryAfter = Number(response.headers.get('retry-after'));
  return Number.isFinite(retryAfter) && retryAfter > 0
    ? { error, retryable, retryAfterMs: retryAfter * 1000 }
    : { error, retryable };
}

/** The DsmError a DSM server described, or undefined when the body is not our error shape. */
export function parseErrorBody(text: string, status: number): DsmError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (value as { error?: unknown } | null)?.error as
    { code?: unknown; message?: unknown; details?: unknown } | undefined;
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string') return undefined;
  const message = typeof error.message === 'string' ? error.message : `HTTP ${status}`;
  const details = isDetails(error.details) ? error.details : {};
  if (isKnownErrorCode(error.code)) return new DsmError(error.code, message, details);
  // A newer peer may use a code we do not know: keep it, under the nearest code we do know.
  const code: DsmErrorCode = codeForHttpStatus(status);
  return new DsmError(code, message, { ...details, remoteCode: error.code });
}

function isDetails(value: unknown): value is ErrorDetails {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function networkCause(err: unknown): string {
  // undici reports "fetch failed" with the system error (ECONNREFUSED, ECONNRESET...) as cause.
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
