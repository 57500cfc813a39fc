/** Real storage node processes on 127.0.0.1, for integration tests and benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The built entry point (this file runs from dist/bench in benchmarks, from src/bench under jest).
const MAIN = join(import.meta.dirname, '../../dist/main.js');

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

export class StorageProcess {
  child?: ChildProcess;
  output = '';
  constructor(
    readonly name: string,
    readonly port: number,
    readonly dir: string,
    public peers: string[],
    readonly adminToken: string,
    readonly extraEnv: Record<string, string> = {},
  ) {}

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
    this.output = '';
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
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
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await this.waitReady();
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) {
        throw new Error(`${this.name} exited with ${this.child.exitCode}: ${this.output}`);
      }
      try {
        const res = await fetch(`${this.url}/readyz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready: ${this.output}`);
      await sleep(50);
    }
  }

  /** kill -9: no shutdown hooks, no flush. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    return exited;
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

  /** Creates `count` nodes that all list each other as peers (not started). */
  async create(count: number, extraEnv: Record<string, string> = {}): Promise<StorageProcess[]> {
    const ports = await Promise.all(Array.from({ length: count }, freePort));
    const created = ports.map((port, i) => {
      const name = `storage-${this.nodes.length + i}`;
      const dir = join(this.root, name);
      const peers = ports.filter((p) => p !== port).map((p) => `127.0.0.1:${p}`);
      return new StorageProcess(name, port, dir, peers, randomBytes(16).toString('hex'), extraEnv);
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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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
