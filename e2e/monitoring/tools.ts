/**
 * Prometheus for the monitoring suites: Debian's `prometheus` package, installed by ensure-prometheus.sh
 * when promtool is missing (root and apt-get), and run as a plain process on 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Installs prometheus and promtool when missing; throws with the script's explanation when it cannot. */
export function ensurePrometheus(): void {
  const result = spawnSync('bash', [join(ROOT, 'e2e/monitoring/ensure-prometheus.sh')], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `prometheus and promtool are needed and could not be installed (e2e/monitoring/ensure-prometheus.sh exit ${result.status}):\n${result.stderr}`,
    );
}

export function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A new temporary folder: in run.sh's (removed on any exit of the run) when there is one. */
export const scratchDir = (prefix: string): string =>
  mkdtempSync(join(process.env.DSM_MONITORING_RUN_DIR ?? tmpdir(), prefix));

/**
 * Records a process the suite started in run.sh's folder (DSM_MONITORING_RUN_DIR) as `<name>.pid`: run.sh's
 * exit trap stops what is still recorded when jest dies or is interrupted before the suite stopped it.
 * Returns the function that forgets it again (call it once the process has exited).
 */
export function recordPid(name: string, pid: number | undefined): () => void {
  const dir = process.env.DSM_MONITORING_RUN_DIR;
  if (!dir || pid === undefined) return () => undefined;
  const file = join(dir, `${name}.pid`);
  writeFileSync(file, `${pid}\n`);
  return () => rmSync(file, { force: true });
}

/** Signals `child` and waits for it to exit, at most `ms`; true when it exited. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
    child.kill(signal);
  });
}

/** Prometheus as a child process with its own configuration and temporary storage. */
export class PrometheusProcess {
  readonly dir = scratchDir('dsm-prometheus-');
  child?: ChildProcess;
  output = '';
  private forget = (): void => undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get configFile(): string {
    return join(this.dir, 'prometheus.yml');
  }

  async start(config: string, timeoutMs = 30_000): Promise<void> {
    writeFileSync(this.configFile, config);
    const child = spawn(
      'prometheus',
      [
        `--config.file=${this.configFile}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.forget = recordPid('prometheus', child.pid);
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await fetch(`${this.url}/-/ready`)).ok) return;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`prometheus did not become ready (exit ${child.exitCode}):\n${this.output}`);
      await sleep(200);
    }
  }

  /** GET of an HTTP API path (`/api/v1/...`), its parsed body. */
  async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const response = await fetch(`${this.url}${path}${query ? `?${query}` : ''}`);
    return (await response.json()) as T;
  }

  async stop(): Promise<void> {
    if (this.child && !(await stopChild(this.child, 'SIGTERM', 10_000))) this.child.kill('SIGKILL');
    this.forget();
    rmSync(this.dir, { recursive: true, force: true });
  }

  configText(): string {
    return readFileSync(this.configFile, 'utf8');
  }
}
