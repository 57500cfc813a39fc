/** Real storage node processes on 127.0.0.1, for integration tests and benchmarks. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, sleep } from './process.js';

// The built entry point of the storage service, through its package's exports (resolved by the backend).
const MAIN = '@dsm/storage/main.js';

/**
 * The environment that gives a service these settings (by config key), named by the service's own config
 * schema (`@dsm/core/config`, `@dsm/storage/config`): a misspelt key throws. Imported when needed, so the
 * harness builds before the services it starts.
 */
export async function serviceEnv(
  service: 'core' | 'storage',
  values: Record<string, unknown>,
): Promise<Record<string, string>> {
  const config = (await import(`@dsm/${service}/config`)) as Record<string, unknown>;
  const toEnv = config[`${service}Env`] as (values: Record<string, unknown>) => Record<string, string>;
  return toEnv(values);
}

// Ports handed out by this process, never handed out again: a port chosen now is often bound only seconds
// later (a core node's P2P port is named to the storage nodes before the core starts).
const handedOut = new Set<number>();
// Below Linux's ephemeral range (32768+) and the NodePort range (30000+), so outgoing connections, which
// take ephemeral ports by the thousand under load, never take a port chosen here before it is bound.
const PORT_RANGE = { low: 20_000, high: 29_999 };

/** A port of 127.0.0.1 that is free now and that no other caller in this process has been given. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low + 1));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.low}-${PORT_RANGE.high} after 200 attempts`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
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
    const settings = await serviceEnv('storage', {
      nodeId: this.name,
      host: '127.0.0.1',
      port: this.port,
      advertise: this.address,
      dataDir: join(this.dir, 'data'),
      configDir: join(this.dir, 'config'),
      syncWith: this.peers,
      replicationFactor: 2,
      syncIntervalMs: 200,
      pushTimeoutMs: 2000,
      adminTokenFile: tokenFile,
      logLevel: 'warn',
      ...(this.peerToken !== undefined ? { peerTokenFile } : {}),
    });
    await this.spawn({ ...settings, ...this.extraEnv }, `${this.url}/readyz`);
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
