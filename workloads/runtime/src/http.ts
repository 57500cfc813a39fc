/**
 * The HTTP shell every service shares: an express 5 app with request logs, the probes
 * (`/healthz`, `/readyz`), `/metrics`, and one error middleware that turns anything thrown into
 * `{error: {code, message, details}}` with the status of `httpStatusFor`. Services add their
 * routes to the returned `router`; it sits before the 404 and error handlers whenever it is filled.
 *
 * Request log lines are cheap enough to leave on (`requestLogLevel`): failures, 4xx, aborted and slow
 * requests are always written; a successful request is written at info once per route per second (the
 * line's `skipped` counts the others, written at debug), probes and `/metrics` at debug only, and the
 * admin API every time.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { cborToDagJson, DsmError, isDsmError, MEDIA_TYPE_DAG_JSON, type ErrorDetails } from '@dsm/protocol';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Registry } from 'prom-client';
import { httpLogSerializers, RequestSampler, type LogLevel } from './log.js';
import { CAR, DAG_CBOR, DAG_JSON } from './media.js';
import { httpRequestDuration } from './metrics.js';
import { Readiness } from './readiness.js';
import { codeForHttpStatus, httpStatusFor } from './status.js';

/** protocol.md §1: the default size limit of one DAG-CBOR object (inclusive). */
export const DEFAULT_RAW_LIMIT = 262_144;

/** What `express.json` parses (charset parameters included; no `+json` types). */
const JSON_TYPE = 'application/json';
/** The only media types a request body may have: JSON routes, and `rawBody` routes. */
const BODY_TYPES = [JSON_TYPE, DAG_CBOR, DAG_JSON];
// Taken by the routes that stream one (a storage restore), so passed on to them; never parsed here.
const STREAMED_TYPES = [CAR];

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetails };
}

export function errorBody(error: DsmError): ErrorBody {
  return { error: { code: error.code, message: error.message, details: error.details } };
}

// ---------------------------------------------------------------------------------------------
// App

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  registry: Registry;
  /** Largest `application/json` body accepted; default 1 MiB. */
  jsonLimit?: number | string;
  readiness?: Readiness;
  requestLog?: RequestLogOptions;
}

export interface RequestLogOptions {
  /**
   * A successful request on a sampled route is written at info at most once per route (method and
   * template) in this many milliseconds; the others are written at debug and counted in the `skipped`
   * field of the route's next info line. 0 writes every one at info.
   * @default 1000
   */
  sampleMs?: number;
  /**
   * A request that took at least this long is written at info (or above) whatever its route.
   * @default 500
   */
  slowMs?: number;
}

export interface HttpApp {
  app: Express;
  /** Where the service's routes go. */
  router: Router;
  readiness: Readiness;
}

// /v1/status too: it is the container health check (`cli status --json`, every few seconds).
const PROBES = new Set(['/healthz', '/readyz', '/metrics', '/v1/status']);
/** The admin API (`adminRoutes` and the services' admin routes of `@dsm/api`): rare, and each one a change. */
const ADMIN_PREFIX = '/v1/admin/';
const DEFAULT_SAMPLE_MS = 1_000;
const DEFAULT_SLOW_MS = 500;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { service, logger, registry } = options;
  const readiness = options.readiness ?? new Readiness();
  const duration = httpRequestDuration(registry);
  const app = express();
  app.disable('x-powered-by');

  const sampler = new RequestSampler(options.requestLog?.sampleMs ?? DEFAULT_SAMPLE_MS);
  const slowMs = options.requestLog?.slowMs ?? DEFAULT_SLOW_MS;
  const started = new WeakMap<http.ServerResponse, number>();
  const skipped = new WeakMap<http.ServerResponse, number>();
  app.use((_req, res, next) => {
    started.set(res, performance.now());
    next();
  });
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (req, res, err) => {
        const now = performance.now();
        const level = requestLogLevel({
          req: req as Request,
          res,
          failed: err !== undefined,
          ms: now - (started.get(res) ?? now),
          slowMs,
          sample: (key) => sampler.take(key, now),
        });
        if (level.skipped) skipped.set(res, level.skipped);
        return level.level;
      },
      customSuccessObject: (_req, res, line: object) => {
        const count = skipped.get(res);
        return count === undefined ? line : { ...line, skipped: count };
      },
      serializers: httpLogSerializers,
    }),
  );

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      duration.observe(
        {
          service,
          method: METHODS.has(req.method) ? req.method : 'OTHER',
          route: routeTemplate(req),
          status: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - start) / 1e9,
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive' });
  });

  app.get('/readyz', async (_req, res) => {
    const report = await readiness.evaluate();
    if (report.ready) {
      res.json({ status: 'ready' });
      return;
    }
    const detail = report.failed.map((name) => `${name} (${report.reasons[name]})`).join(', ');
    const error = new DsmError('E_UNAVAILABLE', `not ready: ${detail}`, { failed: report.failed });
    res.status(503).json(errorBody(error));
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  });

  app.use(express.json({ type: JSON_TYPE, limit: options.jsonLimit ?? '1mb' }));
  // express.json passes over bodies of other types and leaves req.body undefined: a JSON route would
  // then act as if nothing had been sent (receive everything, create an identity...).
  app.use((req, _res, next) => {
    next(
      carriesBody(req) && !req.is([...BODY_TYPES, ...STREAMED_TYPES])
        ? unsupportedMediaType(req, BODY_TYPES)
        : undefined,
    );
  });

  const router = express.Router();
  app.use(router);

  app.use((req, _res, next) => {
    next(
      new DsmError('E_NOT_FOUND', `no route for ${req.method} ${req.path}`, {
        method: req.method,
        path: req.path,
      }),
    );
  });
  app.use(errorHandler());

  return { app, router, readiness };
}

export interface RequestLogFacts {
  req: Request;
  res: http.ServerResponse;
  /** pino-http saw an error on the response stream. */
  failed: boolean;
  /** Time since the request arrived. */
  ms: number;
  slowMs: number;
  /** `RequestSampler.take` for this request's route key: the count skipped before it, or null to skip it. */
  sample: (key: string) => number | null;
}

/**
 * The level of a request's log line. Failures: 503 warn (a dependency or shutdown), other 5xx and stream
 * errors error; 4xx and aborted requests info; all of them, and requests slower than `slowMs`, every time.
 * Then, for successes: probes and `/metrics` debug; the admin API info; any other route (client reads and
 * writes, replication pushes, log, digest and bucket pulls, notifications) info once per sampling window
 * of its route, with `skipped`, and debug otherwise.
 */
export function requestLogLevel(facts: RequestLogFacts): { level: LogLevel; skipped?: number } {
  const { req, res } = facts;
  if (res.statusCode === 503) return { level: 'warn' };
  if (facts.failed || res.statusCode >= 500) return { level: 'error' };
  if (res.statusCode >= 400 || !res.writableEnded || facts.ms >= facts.slowMs) return { level: 'info' };
  if (PROBES.has(req.originalUrl)) return { level: 'debug' };
  const route = routeTemplate(req);
  if (route.startsWith(ADMIN_PREFIX)) return { level: 'info' };
  const skipped = facts.sample(`${METHODS.has(req.method) ? req.method : 'OTHER'} ${route}`);
  return skipped === null ? { level: 'debug' } : { level: 'info', skipped };
}

/** The route pattern (`/chains/:identity`), never the raw path, keeps metric labels bounded. */
function routeTemplate(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  return route?.path === undefined ? 'unmatched' : `${req.baseUrl}${String(route.path)}`;
}

function errorHandler(): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    // Too late for a status line: let express abort the connection.
    if (res.headersSent) {
      next(err);
      return;
    }
    const error = toDsmError(err, String(req.id));
    const status = httpStatusFor(error.code);
    // Unexpected failures get their stack in the request log line; expected rejections do not.
    if (!isDsmError(err) && status >= 500) res.err = err instanceof Error ? err : new Error(String(err));
    res.status(status).json(errorBody(error));
  };
}

interface HttpLikeError {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
  limit?: unknown;
  length?: unknown;
}

/**
 * Anything thrown by a route or middleware, as the DsmError the client will see.
 * Unexpected errors keep their message out of the response (it may describe internals).
 */
export function toDsmError(err: unknown, requestId?: string): DsmError {
  if (isDsmError(err)) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpLikeError;
  const message = typeof e.message === 'string' ? e.message : 'request rejected';
  switch (e.type) {
    case 'entity.parse.failed':
      return new DsmError('E_BAD_REQUEST', `malformed JSON body: ${message}`);
    case 'entity.too.large': {
      const details: ErrorDetails = {};
      if (typeof e.limit === 'number') details.limit = e.limit;
      if (typeof e.length === 'number') details.length = e.length;
      return new DsmError('E_TOO_LARGE', `request body too large (limit ${String(e.limit)} bytes)`, details);
    }
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DsmError('E_UNSUPPORTED_MEDIA_TYPE', message);
  }
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500 && e.expose !== false)
    return new DsmError(codeForHttpStatus(status), message);
  return new DsmError(
    'E_INTERNAL',
    requestId ? `internal error (request ${requestId})` : 'internal error',
    requestId ? { requestId } : {},
  );
}

// ---------------------------------------------------------------------------------------------
// Bodies

/** Whether the request announces a body at all (a `content-length: 0` body is none). */
function carriesBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function unsupportedMediaType(req: Request, expected: string[]): DsmError {
  const given = req.get('content-type') ?? '(none)';
  const message = `content type ${given} not accepted; send ${expected.join(' or ')}`;
  return new DsmError('E_UNSUPPORTED_MEDIA_TYPE', message, { expected });
}

/**
 * The JSON object a JSON route was sent, or `undefined` when the request has no body (what an
 * empty body means is the route's call). Routes read this, never `req.body`: a body that was sent
 * but not parsed as JSON (DAG-CBOR to a JSON route) is refused with 415 instead of looking absent.
 */
export function jsonBody(req: Request): Record<string, unknown> | undefined {
  if (!carriesBody(req)) return undefined;
  const body: unknown = req.body;
  if (!req.is(JSON_TYPE) || body === undefined) throw unsupportedMediaType(req, [JSON_TYPE]);
  // express.json's strict mode already refuses scalars; arrays and buffers get here.
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body))
    throw new DsmError('E_BAD_REQUEST', 'body: JSON object expected', { field: 'body' });
  return body as Record<string, unknown>;
}

// Byte bodies (DAG-CBOR, DAG-JSON)

export interface RawBodyOptions {
  /** Largest body accepted, inclusive; default 262,144 bytes (protocol.md §1). */
  limit?: number | string;
  /**
   * Accepted media types; default DAG-CBOR and DAG-JSON. Bodies of types other than these two and
   * `application/json` are refused by the app before any route runs.
   */
  types?: string[];
}

/**
 * Route middleware that leaves the exact request bytes in `req.body` (see `requestBytes`):
 * content-addressed objects must be hashed as received, so they are never parsed generically.
 */
export function rawBody(options: RawBodyOptions = {}): RequestHandler {
  const types = options.types ?? [DAG_CBOR, DAG_JSON];
  const parse = express.raw({ type: () => true, limit: options.limit ?? DEFAULT_RAW_LIMIT });
  return (req, res, next) => {
    const matched = req.is(types);
    if (matched === null || req.headers['content-length'] === '0') {
      next(
        new DsmError('E_BAD_REQUEST', `request body required (${types.join(' or ')})`, { expected: types }),
      );
      return;
    }
    if (matched === false) {
      next(unsupportedMediaType(req, types));
      return;
    }
    parse(req, res, next);
  };
}

/**
 * Sends protocol bytes the way every DSM service does: DAG-CBOR when the client accepts it first (or
 * anything), DAG-JSON otherwise (`Accept: application/vnd.ipld.dag-json`, `application/json`, ...).
 */
export function sendObject(req: Request, res: Response, bytes: Uint8Array): void {
  if (req.accepts([DAG_CBOR, DAG_JSON, 'application/json']) === DAG_CBOR)
    res.type(DAG_CBOR).send(Buffer.from(bytes));
  else res.type(MEDIA_TYPE_DAG_JSON).send(Buffer.from(cborToDagJson(bytes)));
}

/** The bytes `rawBody` read; a route that forgot the middleware fails loudly. */
export function requestBytes(req: Request): Buffer {
  const body: unknown = req.body;
  if (!Buffer.isBuffer(body))
    throw new DsmError('E_INTERNAL', 'route reads bytes without the rawBody middleware');
  return body;
}

// ---------------------------------------------------------------------------------------------
// Serving

export interface ServeOptions {
  port: number;
  host?: string;
  /** Time a client has to send a whole request, body included, before a 408; default 30 s. */
  requestTimeoutMs?: number;
  /** Time a client has to send the request headers (at most `requestTimeoutMs`); default 10 s. */
  headersTimeoutMs?: number;
}

export interface ServerHandle {
  server: http.Server;
  port: number;
  url: string;
  /**
   * Stops accepting connections and resolves once in-flight requests have been answered.
   * Connections still busy after `timeoutMs` (default 10 s) are cut.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export async function serve(app: http.RequestListener, options: ServeOptions): Promise<ServerHandle> {
  const host = options.host ?? '0.0.0.0';
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout);
  const server = http.createServer(
    {
      requestTimeout,
      headersTimeout,
      // Node looks for expired requests only this often (30 s by default), which would let a stalled
      // upload hold its connection for up to twice the timeout.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, headersTimeout / 4)),
    },
    app,
  );
  // Unfinished responses per connection. Node's closeIdleConnections() misses connections that
  // never carried a request (clients open spares), so idleness is tracked here.
  const pending = new Map<Socket, Set<http.ServerResponse>>();
  let closing: Promise<void> | null = null;

  server.on('connection', (socket: Socket) => {
    pending.set(socket, new Set());
    socket.once('close', () => pending.delete(socket));
  });
  // Requests Node's parser refuses (unknown method, oversized headers, garbage) and requests not
  // received in time never reach express: answer them in our error shape rather than Node's bare
  // status line. Only when every answer pending on the connection is the failed request's own and
  // unstarted (a body that stalled or broke): otherwise ours would go ahead of, or into, another's.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const others = [...(pending.get(socket as Socket) ?? [])].some(
      (res) => res.headersSent || res.req.complete,
    );
    if (err.code === 'ECONNRESET' || !socket.writable || others) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err, { headersTimeout, requestTimeout }), () => socket.destroy());
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const responses = pending.get(req.socket);
    responses?.add(res);
    if (closing) res.setHeader('connection', 'close');
    res.once('close', () => {
      responses?.delete(res);
      // end() flushes what was written, then closes: the keep-alive connection must not hold close() open.
      if (closing && responses?.size === 0) req.socket.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    server,
    port,
    url: `http://${urlHost}:${port}`,
    close({ timeoutMs = 10_000 } = {}) {
      closing ??= new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
        server.close((err?: Error) => {
          clearTimeout(deadline);
          if (err) reject(err);
          else resolve();
        });
        for (const [socket, responses] of pending) {
          if (responses.size === 0) socket.end();
          // Answers not started yet will say so, and Node ends those connections after them.
          for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
        }
      });
      return closing;
    },
  };
}

function clientErrorResponse(
  err: NodeJS.ErrnoException & { reason?: unknown },
  timeouts: { headersTimeout: number; requestTimeout: number },
): string {
  const [status, message]: [number, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, `request headers larger than ${http.maxHeaderSize} bytes`]
      : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? [413, 'chunk extensions too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [
              408,
              `request not received in time (headers within ${timeouts.headersTimeout} ms, all of it within ${timeouts.requestTimeout} ms)`,
            ]
          : [400, `malformed HTTP request: ${typeof err.reason === 'string' ? err.reason : 'parse error'}`];
  const error = new DsmError(codeForHttpStatus(status), message, err.code ? { reason: err.code } : {});
  const body = JSON.stringify(errorBody(error));
  return [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}
