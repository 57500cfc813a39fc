/**
 * What the e2e tests share: `docker compose` run in compose/ as a user would, under a project of their own
 * (dsm-e2e: its own containers, networks and volumes), the CLI in the core container, bounded waits, and
 * the durations they report.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '../..');
export const composeDir = join(root, 'compose');
export const PROJECT = 'dsm-e2e';
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Host ports the stack publishes, by the variable that moves each (the guide's defaults when free). */
export const PORTS = {
  DSM_PUBLISH_CORE_API: 7545,
  DSM_PUBLISH_CORE_P2P: 8765,
  DSM_PUBLISH_STORAGE_PRIMARY: 8766,
  DSM_PUBLISH_STORAGE_REPLICA: 8767,
  DSM_PUBLISH_BRIDGE: 8768,
  DSM_PUBLISH_EVM: 8545,
} as const;
export type PortName = keyof typeof PORTS;

/** A port nothing listens on at 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The guide's ports when all are free on 127.0.0.1; otherwise (a developer's own stack or `npm run dev` is
 * running) each moved by the same offset.
 */
export async function choosePorts(): Promise<Record<PortName, number>> {
  for (const offset of [0, 20_000, 21_000, 22_000]) {
    const ports = Object.fromEntries(
      Object.entries(PORTS).map(([name, port]) => [name, port + offset]),
    ) as Record<PortName, number>;
    const free = await Promise.all(Object.values(ports).map(portFree));
    if (free.every(Boolean)) return ports;
  }
  throw new Error(`the ports ${Object.values(PORTS).join(', ')} (and three offsets of them) are in use`);
}

let ports: Record<PortName, number> | undefined;

/** The environment of every `docker compose` command of the tests. */
export async function composeEnv(): Promise<Record<string, string>> {
  ports ??= await choosePorts();
  return {
    COMPOSE_PROJECT_NAME: PROJECT,
    // Behind the TLS-intercepting proxy of our machines, npm in the build needs this machine's CA bundle.
    COMPOSE_FILE: existsSync(CA_BUNDLE)
      ? 'docker-compose.yml:../e2e/docker/compose.build-ca.yml'
      : 'docker-compose.yml',
    COMPOSE_BAKE: 'false',
    COMPOSE_PROFILES: '',
    COMPOSE_ANSI: 'never',
    COMPOSE_PROGRESS: 'plain',
    COMPOSE_STATUS_STDOUT: '1',
    DSM_REVISION: REVISION,
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
  };
}

export async function port(name: PortName): Promise<number> {
  ports ??= await choosePorts();
  return ports[name];
}

/** The images' revision label: this checkout's commit. */
export const REVISION =
  spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || 'unknown';

/** Runs `script` with bash in `cwd` (compose/ by default), with the compose environment, bounded in time. */
export async function sh(
  script: string,
  options: { cwd?: string; env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<Result> {
  const env = { ...process.env, ...(await composeEnv()), ...options.env };
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: options.cwd ?? composeDir,
      env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    if (child.stdin) {
      // A command that exits before reading all of its input closes the pipe: that is not our failure.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - start });
    });
  });
}

/** `sh` that must succeed: a failure throws with the command's output. */
export async function ok(script: string, options: Parameters<typeof sh>[1] = {}): Promise<Result> {
  const result = await sh(script, options);
  if (result.code !== 0) {
    throw new Error(
      `failed (exit ${result.code}): ${script}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`,
    );
  }
  return result;
}

/** Single-quoted for bash. */
export const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** The dsm CLI in the core container: `docker compose exec -T dsm-core /usr/local/bin/cli ...`. */
export async function dsm(args: string[], options: { input?: string } = {}): Promise<Result> {
  return sh(`docker compose exec -T dsm-core /usr/local/bin/cli ${args.map(quote).join(' ')}`, options);
}

/** `dsm ... --json` that must succeed, parsed. */
export async function dsmJson<T>(args: string[]): Promise<T> {
  const result = await dsm([...args, '--json']);
  if (result.code !== 0) throw new Error(`dsm ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Polls `check` until it returns a value other than undefined, at most `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET on a published port of this machine, parsed as JSON; undefined when it does not answer 200. */
export async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return response.ok ? ((await response.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** One measured duration, printed for the report (`e2e timing: name 12.3 s`). */
export function timing(name: string, ms: number): void {
  process.stderr.write(`e2e timing: ${name} ${(ms / 1000).toFixed(1)} s\n`);
}
