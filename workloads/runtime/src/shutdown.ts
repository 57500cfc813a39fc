/**
 * Graceful shutdown. Services register closers in start-up order (open the DB, then start the
 * server...); on SIGTERM/SIGINT they run in reverse (stop accepting and finish in-flight
 * requests, flush, close the DB), one after the other, within a deadline. Then the process
 * exits: 0 when every closer succeeded, 1 otherwise. A second signal exits at once.
 */
import type { Logger } from 'pino';

export type Closer = () => unknown;

export interface ShutdownOptions {
  logger?: Logger;
  /** Deadline for all closers together; default 25 s, inside Kubernetes' 30 s grace period. */
  timeoutMs?: number;
  signals?: readonly NodeJS.Signals[];
  /** process.exit by default; injected by tests. */
  exit?: (code: number) => void;
}

export class GracefulShutdown {
  private readonly closers: { name: string; close: Closer }[] = [];
  private readonly timeoutMs: number;
  private readonly signals: readonly NodeJS.Signals[];
  private readonly exit: (code: number) => void;
  private running: Promise<number> | null = null;
  private current: string | null = null;
  private readonly onSignal = (signal: NodeJS.Signals): void => this.handleSignal(signal);

  constructor(private readonly options: ShutdownOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 25_000;
    this.signals = options.signals ?? ['SIGTERM', 'SIGINT'];
    this.exit = options.exit ?? ((code) => process.exit(code));
  }

  /** Adds a closer; the last registered runs first. */
  register(name: string, close: Closer): void {
    if (this.running) throw new Error(`cannot register "${name}": shutdown already started`);
    this.closers.push({ name, close });
  }

  listen(): this {
    for (const signal of this.signals) process.on(signal, this.onSignal);
    return this;
  }

  unlisten(): void {
    for (const signal of this.signals) process.off(signal, this.onSignal);
  }

  get started(): boolean {
    return this.running !== null;
  }

  /** Runs the closers once (later calls share the first run), then exits with the returned code. */
  run(reason: string): Promise<number> {
    this.running ??= this.closeAll(reason).then((code) => {
      this.exit(code);
      return code;
    });
    return this.running;
  }

  private handleSignal(signal: NodeJS.Signals): void {
    if (this.running) {
      this.options.logger?.warn(
        { signal, closing: this.current },
        'second signal: exiting without finishing',
      );
      this.exit(1);
      return;
    }
    void this.run(signal);
  }

  private async closeAll(reason: string): Promise<number> {
    const log = this.options.logger;
    log?.info({ reason, closers: this.closers.length }, 'shutting down');
    let failed = false;
    const work = (async () => {
      for (const { name, close } of [...this.closers].reverse()) {
        this.current = name;
        try {
          await close();
          log?.debug({ closer: name }, 'closed');
        } catch (err) {
          failed = true;
          log?.error({ err, closer: name }, 'closer failed');
        }
      }
      this.current = null;
      return 'done' as const;
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.timeoutMs);
    });
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      log?.error({ timeoutMs: this.timeoutMs, closing: this.current }, 'shutdown deadline passed');
      return 1;
    }
    log?.info({ failed }, 'shutdown complete');
    return failed ? 1 : 0;
  }
}
