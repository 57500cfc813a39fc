/** One service of ours: started by a backend from its package's entry point, output kept, readiness polled. */
import type { ChildProcess } from 'node:child_process';
import { processBackend, type Backend, type ServiceEntry, type Started } from './backend.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ServiceProcess {
  /** The OS process of the last start (process backend). */
  child?: ChildProcess;
  output = '';
  private started?: Started;

  constructor(
    readonly name: string,
    /** The service's entry point as its package exports it, e.g. `@dsm/core/main.js`. */
    private readonly main: ServiceEntry,
    private readonly backend: Backend = processBackend,
  ) {}

  /** Starts the service with `env` (plus PATH) and waits until `probeUrl` answers 2xx. */
  async spawn(env: Record<string, string>, probeUrl: string, timeoutMs = 20_000): Promise<void> {
    this.output = '';
    const started = this.backend.start(this.main, env);
    this.started = started;
    this.child = started.child;
    started.onOutput((text) => (this.output += text));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exit = started.exit;
      if (exit !== null)
        throw new Error(`${this.name} exited with ${exit.code ?? exit.signal}: ${this.output}`);
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
    const started = this.started;
    if (!started || started.exit !== null) return;
    await started.signal('SIGKILL');
  }

  /** SIGTERM, resolving with the exit code. */
  async stop(): Promise<number | null> {
    const started = this.started;
    if (!started) return null;
    if (started.exit !== null) return started.exit.code;
    return started.signal('SIGTERM');
  }
}
