/**
 * What `/readyz` answers: named checks of the dependencies a service needs (its store, its
 * peers...), run in parallel with a timeout each, plus a shutdown flag so traffic drains first.
 */

/** Throws (or rejects, or returns false) while the dependency it checks is not usable. */
export type ReadinessCheck = () => unknown;

export interface ReadinessReport {
  ready: boolean;
  failed: string[];
  reasons: Record<string, string>;
}

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private stopping = false;

  /** @param timeoutMs a check slower than this counts as failed, so a hung dependency cannot hang the probe */
  constructor(private readonly timeoutMs = 2000) {}

  add(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" is already registered`);
    this.checks.set(name, check);
  }

  /** From now on not ready, so load balancers stop sending traffic before the server closes. */
  shuttingDown(): void {
    this.stopping = true;
  }

  async evaluate(): Promise<ReadinessReport> {
    const reasons: Record<string, string> = {};
    if (this.stopping) reasons.shutdown = 'shutting down';
    const results = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await this.run(check)] as const),
    );
    for (const [name, reason] of results) if (reason !== null) reasons[name] = reason;
    const failed = Object.keys(reasons);
    return { ready: failed.length === 0, failed, reasons };
  }

  private async run(check: ReadinessCheck): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`timed out after ${this.timeoutMs} ms`), this.timeoutMs);
    });
    const outcome = (async () => {
      try {
        return (await check()) === false ? 'reported not ready' : null;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    })();
    try {
      return await Promise.race([outcome, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
