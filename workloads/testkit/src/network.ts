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

  /** Bearer token of custodial operations (sent by `call`); the core nodes of one Network share one. */
  apiToken = randomBytes(16).toString('hex');
  /** DSM_CORE_PEERS: the P2P addresses of every core node of the cluster (none: a single core node). */
  corePeers: string[] = [];

  get apiTokenFile(): string {
    return join(this.dir, 'api-token');
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }
  get p2pUrl(): string {
    return `http://127.0.0.1:${this.p2pPort}`;
  }
  /** `host:port` of the P2P port, as DSM_CORE_PEERS lists it. */
  get p2pAddress(): string {
    return `127.0.0.1:${this.p2pPort}`;
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
      ...(this.corePeers.length > 0 ? { corePeers: this.corePeers } : {}),
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
  /** The first core node. */
  core!: CoreProcess;
  /**
   * Every core node. With `cores` > 1 they share the storage nodes, the API and admin tokens, and list each
   * other (themselves included) in DSM_CORE_PEERS, as replicas behind one Service would.
   */
  cores: CoreProcess[] = [];

  async start(
    options: {
      storageNodes?: number;
      cores?: number;
      coreEnv?: Record<string, string>;
      adminToken?: string;
    } = {},
  ): Promise<this> {
    const count = options.cores ?? 1;
    const ports = await Promise.all(
      Array.from({ length: count }, async () => [await freePort(), await freePort()] as const),
    );
    // As deployed (compose, the operator, npm run dev): storage nodes nudge the core nodes about transfers.
    const notify = await serviceEnv('storage', { notify: ports.map(([, p2p]) => `127.0.0.1:${p2p}`) });
    this.storage = await this.cluster.create(options.storageNodes ?? 2, notify, options.adminToken);
    await this.cluster.startAll();
    // One admin token for the whole network when the caller gives one, as compose and the operator do.
    const adminToken = options.adminToken ?? randomBytes(16).toString('hex');
    for (let i = 0; i < count; i++) {
      const [api, p2p] = ports[i]!;
      this.cores.push(
        new CoreProcess(
          join(this.cluster.root, i === 0 ? 'core' : `core-${i}`),
          api,
          p2p,
          this.storage.map((s) => s.address),
          adminToken,
          options.coreEnv,
        ),
      );
    }
    this.core = this.cores[0]!;
    if (count > 1) {
      const peers = this.cores.map((c) => c.p2pAddress);
      for (const core of this.cores) {
        core.apiToken = this.core.apiToken;
        core.corePeers = [...peers];
      }
    }
    await Promise.all(this.cores.map((c) => c.start()));
    return this;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.cores.map((c) => c.kill()));
    await this.cluster.destroy();
  }
}
