/** One service process of ours: spawned from its built entry point, output kept, readiness polled. */
import { spawn, type ChildProcess } from 'node:child_process';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ServiceProcess {
  child?: ChildProcess;
  output = '';

  constructor(
    readonly name: string,
    private readonly main: string,
  ) {}

  /** Spawns the service with `env` (plus PATH) and waits until `probeUrl` answers 2xx. */
  async spawn(env: Record<string, string>, probeUrl: string, timeoutMs = 20_000): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, [this.main], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`${this.name} exited with ${child.exitCode}: ${this.output}`);
      try {
        if ((await fetch(probeUrl)).ok) return;
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

  /** SIGTERM, resolving with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    return exited;
  }
}
