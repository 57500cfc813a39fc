/**
 * JSON logs (pino) with secrets kept out: the value of any field whose name ends like token,
 * secret, password or key, at any depth of a logged plain object, and, in request log lines, of
 * any header or query parameter so named. Name domain fields so they don't collide (`tokenId`, not `token`).
 */
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import { z } from 'zod';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** For config schemas: `logLevel: logLevelSchema.default('info')`. */
export const logLevelSchema = z.enum(LOG_LEVELS);

export const REDACTED = '[redacted]';

const SECRET_FIELD = /(token|secret|password|passphrase|key|authorization|cookie)s?$/i;

// Request/response objects are serialized by pino-http after our formatter runs, so the name scrub
// never sees them: `httpLogSerializers` covers them, these paths are the backstop for the usual names.
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where JSON lines go; stdout (synchronous, so nothing is lost at exit) by default. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactSecrets(object) as Record<string, unknown>,
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  // pino gives child bindings no formatter hook, so scrub them on the way in. Children are
  // created with Object.create(parent), so grandchildren (pino-http's per-request loggers) inherit this.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redactSecrets(bindings) as typeof bindings, childOptions);
  } as Logger['child'];
  return logger;
}

/** Run-time level change (admin `config set logLevel debug`); children follow their parent. */
export function setLogLevel(logger: Logger, level: string): void {
  logger.level = logLevelSchema.parse(level);
}

/**
 * Copy of `value` with secret-named fields replaced. Only plain objects and arrays are walked:
 * class instances (errors, requests, buffers) are left to their serializers.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) && field !== undefined ? REDACTED : redactSecrets(field, depth + 1);
  }
  return out;
}

function isSecretName(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** A query parameter's name as the app would read it: decoded, without a `[...]` suffix. */
function paramName(raw: string): string {
  let name = raw.replace(/\+/g, ' ');
  try {
    name = decodeURIComponent(name);
  } catch {
    // malformed escapes: judge the name as written
  }
  return name.replace(/\[.*$/, '');
}

/** `url` with the value of every secret-named query parameter replaced (`?token=[redacted]&limit=5`). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq !== -1 && isSecretName(paramName(pair.slice(0, eq)))
        ? `${pair.slice(0, eq + 1)}${REDACTED}`
        : pair;
    });
  return `${url.slice(0, q + 1)}${params.join('&')}`;
}

/** Copy of a header or query map with secret-named entries replaced (never the request's own object). */
function redactNamed(map: unknown, name: (key: string) => string = (key) => key): unknown {
  if (typeof map !== 'object' || map === null) return map;
  return Object.fromEntries(
    Object.entries(map).map(([key, value]) => [
      key,
      isSecretName(name(key)) ? REDACTED : redactSecrets(value),
    ]),
  );
}

interface SerializedMessage {
  url?: unknown;
  query?: unknown;
  headers?: unknown;
}

/**
 * pino-http serializers (they receive pino's serialized request and response): credentials sent
 * where no standard says (`x-auth-token`, `?access_token=`) are redacted by name like any field.
 */
export const httpLogSerializers = {
  req: (req: SerializedMessage): SerializedMessage => ({
    ...req,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    query: redactNamed(req.query, paramName),
    headers: redactNamed(req.headers),
  }),
  res: (res: SerializedMessage): SerializedMessage => ({ ...res, headers: redactNamed(res.headers) }),
};

/**
 * At most one written line per key (a route) per window: `take(key, now)` answers how many requests of
 * that key were skipped since its last written line when this one is to be written, `null` when this
 * one is skipped (and counted). Keys are route templates, so the map stays as small as the route table.
 */
export class RequestSampler {
  readonly #windowMs: number;
  readonly #routes = new Map<string, { writtenAt: number; skipped: number }>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  take(key: string, now: number): number | null {
    const route = this.#routes.get(key);
    if (route === undefined) {
      this.#routes.set(key, { writtenAt: now, skipped: 0 });
      return 0;
    }
    if (now - route.writtenAt < this.#windowMs) {
      route.skipped += 1;
      return null;
    }
    const skipped = route.skipped;
    route.writtenAt = now;
    route.skipped = 0;
    return skipped;
  }
}
