/** A real DSM network on 127.0.0.1 for tests and benchmarks: storage node processes and a core node process. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceProcess } from './process.js';
import { Cluster, freePort, serviceEnv, type StorageProcess } from './storage.js';

// The built entry point of the core service, through its package's exports (resolved by the backend).
const CORE_MAIN = '@dsm/core/main.js';

export class CoreProcess extends ServiceProcess {
  constructor(
    readonly dir: string,
    readonly apiPort: number,
    readonly p2pPort: number,
    public storageNodes: string[],
    readonly adminToken: string,
    readonly extraEnv: Record<string, string> = {},
  ) {
    super('core', CORE_MAIN);
  }

  /** Bearer token of custodial operations (sent by `call`). */
  readonly apiToken = randomBytes(16).toString('hex');

  get apiTokenFile(): string {
    return join(this.dir, 'api-token');
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }
  get p2pUrl(): string {
    return `http://127.0.0.1:${this.p2pPort}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const tokenFile = join(this.dir, 'admin-token');
    const keyFile = join(this.dir, 'keystore-key');
    writeFileSync(tokenFile, this.adminToken + '\n', { mode: 0o600 });
    writeFileSync(this.apiTokenFile, this.apiToken + '\n', { mode: 0o600 });
    writeFileSync(keyFile, 'test keystore key, long enough\n', { mode: 0o600 });
    const settings = await serviceEnv('core', {
      host: '127.0.0.1',
      apiPort: this.apiPort,
      p2pPort: this.p2pPort,
      dataDir: join(this.dir, 'data'),
      configDir: join(this.dir, 'config'),
      policiesDir: join(this.dir, 'policies'),
      storageNodes: this.storageNodes,
      keystoreKeyFile: keyFile,
      adminTokenFile: tokenFile,
      apiTokenFile: this.apiTokenFile,
      logLevel: 'warn',
      receivePollMs: 200,
      storageTimeoutMs: 3000,
    });
    await this.spawn({ ...settings, ...this.extraEnv }, `${this.url}/healthz`);
  }

  /**
   * JSON call to the client API, with the API token unless `token` says otherwise (and an Idempotency-Key
   * when `key` is given); status and parsed body.
   */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string | null; key?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: T }> {
    const token = options.token === undefined ? this.apiToken : options.token;
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(options.key === undefined ? {} : { 'idempotency-key': options.key }),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  }
}

export class Network {
  readonly cluster = new Cluster();
  storage: StorageProcess[] = [];
  core!: CoreProcess;

  async start(
    options: { storageNodes?: number; coreEnv?: Record<string, string>; adminToken?: string } = {},
  ): Promise<this> {
    this.storage = await this.cluster.create(options.storageNodes ?? 2, {}, options.adminToken);
    await this.cluster.startAll();
    const [api, p2p] = [await freePort(), await freePort()];
    this.core = new CoreProcess(
      join(this.cluster.root, 'core'),
      api,
      p2p,
      this.storage.map((s) => s.address),
      randomBytes(16).toString('hex'),
      options.coreEnv,
    );
    await this.core.start();
    return this;
  }

  async destroy(): Promise<void> {
    await this.core?.kill();
    await this.cluster.destroy();
  }
}
