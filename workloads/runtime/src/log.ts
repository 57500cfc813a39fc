/**
 * JSON logs (pino) with secrets kept out: `authorization`/`cookie` headers of logged requests
 * and the value of any field whose name ends like token, secret, password or key, at any depth
 * of a logged plain object. Name domain fields so they don't collide (`tokenId`, not `token`).
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

// Request/response objects are serialized by pino-http after our formatter runs, so their
// headers are covered by pino's path redaction instead of the name scrub.
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
