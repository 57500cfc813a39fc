/** Real storage node processes on 127.0.0.1, for integration tests and benchmarks. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, sleep } from './process.js';

// The built entry point of the storage service, through its package's exports (resolved by the backend).
const MAIN = '@dsm/storage/main.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class StorageProcess extends ServiceProcess {
  /** Shared secret for the replication routes (written to a file, `DSM_STORAGE_PEER_TOKEN_FILE`); none by default. */
  peerToken?: string;

  constructor(
    name: string,
    readonly port: number,
    readonly dir: string,
    public peers: string[],
    readonly adminToken: string,
    readonly extraEnv: Record<string, string> = {},
  ) {
    super(name, MAIN);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
  get url(): string {
    return `http://${this.address}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const tokenFile = join(this.dir, 'admin-token');
    writeFileSync(tokenFile, this.adminToken + '\n', { mode: 0o600 });
    const peerTokenFile = join(this.dir, 'peer-token');
    if (this.peerToken !== undefined) writeFileSync(peerTokenFile, this.peerToken + '\n', { mode: 0o600 });
    await this.spawn(
      {
        DSM_STORAGE_NODE_ID: this.name,
        DSM_STORAGE_HOST: '127.0.0.1',
        DSM_STORAGE_PORT: String(this.port),
        DSM_STORAGE_ADVERTISE: this.address,
        DSM_STORAGE_DATA_DIR: join(this.dir, 'data'),
        DSM_STORAGE_CONFIG_DIR: join(this.dir, 'config'),
        DSM_STORAGE_SYNC_WITH: this.peers.join(','),
        DSM_STORAGE_REPLICATION_FACTOR: '2',
        DSM_STORAGE_SYNC_INTERVAL_MS: '200',
        DSM_STORAGE_PUSH_TIMEOUT_MS: '2000',
        DSM_ADMIN_TOKEN_FILE: tokenFile,
        DSM_LOG_LEVEL: 'warn',
        ...(this.peerToken !== undefined ? { DSM_STORAGE_PEER_TOKEN_FILE: peerTokenFile } : {}),
        ...this.extraEnv,
      },
      `${this.url}/readyz`,
    );
  }

  async status(): Promise<StorageStatus> {
    return (await fetch(`${this.url}/v1/status`)).json() as Promise<StorageStatus>;
  }

  async has(id: string): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/v1/objects/${id}`)).status === 200;
    } catch {
      return false;
    }
  }

  admin(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });
  }
}

export interface StorageStatus {
  nodeId: string;
  objects: number;
  bytes: number;
  digest: string;
  forks: number;
  lastSeq: number;
  peers: { address: string; up: boolean; behind: number; lagSeconds: number }[];
}

export class Cluster {
  readonly root = mkdtempSync(join(tmpdir(), 'dsm-storage-'));
  readonly nodes: StorageProcess[] = [];

  /** Creates `count` nodes that all list each other as peers (not started); one admin token each unless given. */
  async create(
    count: number,
    extraEnv: Record<string, string> = {},
    adminToken?: string,
  ): Promise<StorageProcess[]> {
    const ports = await Promise.all(Array.from({ length: count }, freePort));
    const created = ports.map((port, i) => {
      const name = `storage-${this.nodes.length + i}`;
      const dir = join(this.root, name);
      const peers = ports.filter((p) => p !== port).map((p) => `127.0.0.1:${p}`);
      return new StorageProcess(
        name,
        port,
        dir,
        peers,
        adminToken ?? randomBytes(16).toString('hex'),
        extraEnv,
      );
    });
    this.nodes.push(...created);
    return created;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns true, at most `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
