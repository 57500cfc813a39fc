/** What every command gets: the global options, the service clients built from them, and its output. */
import type { Command } from 'commander';
import { adminApi, coreApi, type AdminApi, type CoreApi, type Endpoints } from './client.js';
import { parseInteger, parseUrl } from './options.js';
import { jsonDocument } from './output.js';
import type { ProgressStream } from './progress.js';

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
}

export const DEFAULT_URL = 'http://127.0.0.1:7545';
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8765';
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface GlobalOptions {
  url: string;
  adminUrl: string;
  tokenFile?: string;
  apiTokenFile?: string;
  timeout: string;
  json?: boolean;
  quiet?: boolean;
}

export class Context {
  readonly endpoints: Endpoints;
  readonly json: boolean;
  readonly quiet: boolean;

  constructor(
    globals: GlobalOptions,
    readonly io: Io,
  ) {
    this.json = globals.json === true;
    this.quiet = globals.quiet === true && !this.json;
    this.endpoints = {
      url: parseUrl('--url', globals.url),
      adminUrl: parseUrl('--admin-url', globals.adminUrl),
      timeoutMs: parseInteger('--timeout', globals.timeout, 1),
      ...(globals.tokenFile !== undefined && globals.tokenFile !== ''
        ? { tokenFile: globals.tokenFile }
        : {}),
      ...(globals.apiTokenFile !== undefined && globals.apiTokenFile !== ''
        ? { apiTokenFile: globals.apiTokenFile }
        : {}),
    };
  }

  core(): CoreApi {
    return coreApi(this.endpoints);
  }

  admin(): AdminApi {
    return adminApi(this.endpoints);
  }

  /**
   * Prints the result: the JSON document with `--json`, only the id it made with `--quiet` (when the
   * command made something), `human(result)` otherwise.
   */
  emit<T>(result: T, human: (result: T) => string, madeId?: (result: T) => string): void {
    if (this.json) this.io.stdout.write(jsonDocument(result));
    else if (this.quiet && madeId) this.io.stdout.write(`${madeId(result)}\n`);
    else this.io.stdout.write(`${human(result)}\n`);
  }
}

/** The context of the command being run, from its options merged with the program's. */
export function contextOf(command: Command, io: Io): Context {
  return new Context(command.optsWithGlobals<GlobalOptions>(), io);
}
