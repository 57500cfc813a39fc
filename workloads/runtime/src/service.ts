/**
 * What every DSM service's entry point and HTTP surface share, written once: the process lifecycle (load
 * the configuration, start, stop on SIGTERM/SIGINT), the admin guard, and the admin configuration routes
 * derived from the service's config schema. Route paths come from `@dsm/api` (the contract), passed in.
 */
import type { RequestHandler, Router } from 'express';
import type { z } from 'zod';
import { DsmError } from '@dsm/protocol';
import { adminAuth } from './auth.js';
import { ConfigError, parseAdminChanges, saveConfigChanges, type ConfigSources } from './config.js';
import { jsonBody } from './http.js';
import type { Logger } from './log.js';
import { setLogLevel } from './log.js';
import { pickSettings, reportedKeysOf, runtimeKeysOf } from './settings.js';
import { GracefulShutdown } from './shutdown.js';

/** A started service: its logger and how to stop it. */
export interface RunningService {
  logger: Logger;
  close(): Promise<void>;
}

/**
 * A service's `main`: loads its configuration (a bad key exits 2 naming it), starts it (a failure exits 1,
 * a ConfigError raised while starting, such as an unreadable token file, exits 2), then closes it on the
 * first SIGTERM/SIGINT (a second one exits at once).
 */
export async function runService<C>(
  name: string,
  load: () => C,
  start: (config: C) => Promise<RunningService>,
): Promise<RunningService> {
  let service: RunningService;
  try {
    service = await start(load());
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}`);
    process.exit(e instanceof ConfigError ? 2 : 1);
  }
  const shutdown = new GracefulShutdown({ logger: service.logger });
  shutdown.register(name, () => service.close());
  shutdown.listen();
  return service;
}

/** The admin API's guard: the bearer token from `tokenFile`, or, without one, a refusal of everything. */
export function adminGuard(tokenFile: string | undefined): RequestHandler {
  if (tokenFile) return adminAuth({ tokenFile });
  return (_req, _res, next) =>
    next(
      new DsmError(
        'E_UNAUTHORIZED',
        'the admin API is disabled: no admin token file is configured (DSM_ADMIN_TOKEN_FILE)',
      ),
    );
}

export interface AdminConfigOptions<S extends z.ZodObject> {
  /** `GET` and `PUT` path of the admin configuration (`adminRoutes.config.path` of `@dsm/api`). */
  path: string;
  schema: S;
  /** Where changes are persisted (the service's config sources, with its `persisted` file). */
  sources: ConfigSources<S>;
  /** The configuration in force now. */
  current: () => z.output<S>;
  /** Puts the saved configuration in force (resize caches, change the log level, ...). */
  apply: (next: z.output<S>, changed: string[]) => void;
  logger: Logger;
}

/**
 * `GET` shows the settings the schema marks as run-time or reported; `PUT` takes a strict partial object of
 * the run-time settings, validates it with the schema's bounds, persists it and puts it in force.
 */
export function adminConfigRoutes<S extends z.ZodObject>(
  router: Router,
  options: AdminConfigOptions<S>,
): void {
  const { path, schema, sources, logger } = options;
  const runtime = runtimeKeysOf(schema);
  router.get(path, (_req, res) => {
    res.json(pickSettings(options.current() as object, reportedKeysOf(schema) as never[]));
  });
  router.put(path, async (req, res) => {
    const changes = parseAdminChanges(schema, jsonBody(req));
    const saved = await saveConfigChanges(schema, sources, changes);
    // Only the run-time settings change without a restart.
    const next = {
      ...options.current(),
      ...pickSettings(saved as object, runtime as never[]),
    } as z.output<S>;
    options.apply(next, Object.keys(changes));
    setLogLevel(logger, (next as { logLevel: string }).logLevel);
    logger.info({ changes: Object.keys(changes) }, 'configuration changed');
    res.json(pickSettings(next as object, runtime as never[]));
  });
}
