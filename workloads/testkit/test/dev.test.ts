// `npm run dev` (scripts/dev.mjs) stopped the way a terminal stops it: Ctrl-C signals the whole
// foreground process group. Runs the built services (`npm test` builds dist/ before jest).
import { afterAll, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'dsm-dev-test-'));
let dev: ChildProcess | undefined;

function listen(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (servers: (Server | null)[]) =>
  Promise.all(servers.map((s) => new Promise<void>((r) => (s ? s.close(() => r()) : r()))));

/**
 * Free ports for the core (API, P2P), the bridge, the EVM dev chain and the two storage nodes, which take
 * `storage` and the next one.
 */
async function freePorts(): Promise<{
  api: number;
  p2p: number;
  bridge: number;
  evm: number;
  storage: number;
}> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const [api, p2p, bridge, evm, storage] = await Promise.all([
      listen(0),
      listen(0),
      listen(0),
      listen(0),
      listen(0),
    ]);
    const port = (s: Server | null) => (s?.address() as { port: number }).port;
    const next = storage ? await listen(port(storage) + 1) : null;
    const all = [api, p2p, bridge, evm, storage, next];
    const found = all.every(Boolean)
      ? { api: port(api), p2p: port(p2p), bridge: port(bridge), evm: port(evm), storage: port(storage) }
      : null;
    await close(all);
    if (found) return found;
  }
  throw new Error('no free ports');
}

function logsOf(name: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'logs', `${name}.log`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => {
  // Whatever a failed run left behind: dev.mjs, then the services (each in its own process group).
  if (dev?.pid && dev.exitCode === null) process.kill(-dev.pid, 'SIGKILL');
  const logs = join(dir, 'logs');
  for (const file of existsSync(logs) ? readdirSync(logs) : [])
    for (const line of logsOf(file.replace(/\.log$/, '')))
      if (typeof line.pid === 'number' && alive(line.pid)) process.kill(line.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('one Ctrl-C stops every service cleanly', async () => {
  const ports = await freePorts();
  dev = spawn(process.execPath, [join(root, 'scripts/dev.mjs')], {
    cwd: root,
    // Its own process group, like a shell's foreground job: the group is what Ctrl-C signals.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      DSM_DEV_DIR: dir,
      DSM_DEV_API_PORT: String(ports.api),
      DSM_DEV_P2P_PORT: String(ports.p2p),
      DSM_DEV_STORAGE_PORT: String(ports.storage),
      DSM_DEV_BRIDGE_PORT: String(ports.bridge),
      DSM_DEV_EVM_PORT: String(ports.evm),
    },
  });
  let output = '';
  dev.stdout!.on('data', (data: Buffer) => (output += data.toString()));
  dev.stderr!.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    dev!.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const deadline = Date.now() + 60_000;
  while (!output.includes('DSM network running')) {
    if (dev.exitCode !== null || Date.now() > deadline) throw new Error(`dev.mjs did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await fetch(`http://127.0.0.1:${ports.api}/readyz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${ports.bridge}/readyz`)).status).toBe(200);

  const stoppedAt = Date.now();
  process.kill(-dev.pid!, 'SIGINT');
  expect(await exited).toEqual({ code: 0, signal: null });
  expect(Date.now() - stoppedAt).toBeLessThan(5_000);

  for (const name of ['storage-0', 'storage-1', 'core', 'bridge']) {
    const lines = logsOf(name);
    expect([name, lines.filter((l) => String(l.msg).includes('second signal'))]).toEqual([name, []]);
    expect([name, lines.filter((l) => l.msg === 'shutting down').map((l) => l.reason)]).toEqual([
      name,
      ['SIGTERM'],
    ]);
    expect([name, lines.find((l) => l.msg === 'shutdown complete')?.failed]).toEqual([name, false]);
    const pid = lines[0]?.pid as number;
    expect([name, alive(pid)]).toEqual([name, false]);
  }
  expect(output).toContain('stopped');
}, 90_000);
