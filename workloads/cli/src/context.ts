/** What every command gets: the global options, the service clients built from them, and its output. */
import type { Command } from 'commander';
import {
  adminApi,
  bridgeApi,
  coreApi,
  type AdminApi,
  type BridgeApi,
  type CoreApi,
  type Endpoints,
} from './client.js';
import { parseInteger, parseUrl } from './options.js';
import { jsonDocument } from './output.js';
import type { ProgressStream } from './progress.js';
import type { Units } from './units.js';

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
}

export const DEFAULT_URL = 'http://127.0.0.1:7545';
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8765';
export const DEFAULT_BRIDGE_URL = 'http://127.0.0.1:8768';
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface GlobalOptions {
  url: string;
  adminUrl: string;
  bridgeUrl: string;
  tokenFile?: string;
  apiTokenFile?: string;
  timeout: string;
  json?: boolean;
  quiet?: boolean;
  raw?: boolean;
}

export class Context {
  readonly endpoints: Endpoints;
  readonly json: boolean;
  readonly quiet: boolean;
  /** Amounts in base units, in and out (`--raw`); otherwise in each token's decimals. */
  readonly raw: boolean;
  private coreClient?: CoreApi;
  private bridgeClient?: BridgeApi;
  /** Token decimals, read at most once per command run. */
  private readonly decimalsOf = new Map<string, Promise<number>>();

  constructor(
    globals: GlobalOptions,
    readonly io: Io,
  ) {
    this.json = globals.json === true;
    this.quiet = globals.quiet === true && !this.json;
    this.raw = globals.raw === true;
    this.endpoints = {
      url: parseUrl('--url', globals.url),
      adminUrl: parseUrl('--admin-url', globals.adminUrl),
      bridgeUrl: parseUrl('--bridge-url', globals.bridgeUrl),
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
    this.coreClient ??= coreApi(this.endpoints);
    return this.coreClient;
  }

  /** The token's decimals from its definition (`GET /v1/tokens/:id`); its failure is the command's. */
  decimals(token: string): Promise<number> {
    let decimals = this.decimalsOf.get(token);
    if (decimals === undefined) {
      decimals = this.core()
        .token(token)
        .then((t) => t.decimals);
      this.decimalsOf.set(token, decimals);
    }
    return decimals;
  }

  /** What a command knows already (the token it just created) need not be read. */
  knowDecimals(token: string, decimals: number): void {
    this.decimalsOf.set(token, Promise.resolve(decimals));
  }

  /**
   * How to print the amounts of these tokens. Best effort: a definition that cannot be read leaves its
   * amounts in base units (marked) rather than failing a command whose operation already happened.
   */
  async units(tokens: Iterable<string>): Promise<Units> {
    if (this.raw) return 'raw';
    const known = await Promise.all(
      [...new Set(tokens)].map((token) =>
        this.decimals(token).then(
          (decimals): [string, number] => [token, decimals],
          () => undefined,
        ),
      ),
    );
    return new Map(known.filter((k) => k !== undefined));
  }

  admin(): AdminApi {
    return adminApi(this.endpoints);
  }

  /** The bridge's API at --bridge-url; `admin` sends the --token-file bearer (token deployment). */
  bridge(options: { admin?: boolean } = {}): BridgeApi {
    if (options.admin === true) return bridgeApi(this.endpoints, { admin: true });
    this.bridgeClient ??= bridgeApi(this.endpoints);
    return this.bridgeClient;
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
