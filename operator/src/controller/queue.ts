/**
 * A keyed, deduplicated work queue with client-go's semantics:
 * - a key added while it waits is not added twice (`dirty`);
 * - a key added while a worker holds it is queued again only when that worker calls `done` (`processing`),
 *   so no two workers ever hold one key and no change is missed;
 * - `addAfter` delays an add (the earliest pending delay of a key wins);
 * - `addRateLimited` delays by the key's own exponential backoff, which `forget` resets after a success.
 */

export interface BackoffOptions {
  /** First delay; default 5 ms. */
  baseMs?: number;
  /** Largest delay; default 5 min (client-go's 1000 s is longer than a roll needs). */
  maxMs?: number;
}

/** Delay before retry number `failures` (0 for the first): base·2^failures, at most `maxMs`. */
export function backoffDelay(failures: number, { baseMs = 5, maxMs = 300_000 }: BackoffOptions = {}): number {
  // 2^failures overflows to Infinity past ~1023; min() keeps the cap.
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures));
}

export interface WorkQueueOptions extends BackoffOptions {
  /** Called whenever the number of waiting keys changes. */
  onDepth?: (depth: number) => void;
}

export class WorkQueue {
  private readonly order: string[] = [];
  /** Keys that need processing: waiting in `order`, or added again while processing. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private closed = false;

  constructor(private readonly options: WorkQueueOptions = {}) {}

  /** Keys waiting to be handed to a worker. */
  get depth(): number {
    return this.order.length;
  }

  get isShutdown(): boolean {
    return this.closed;
  }

  add(key: string): void {
    if (this.closed || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` once `ms` have passed; an earlier pending delay of the same key is kept. */
  addAfter(key: string, ms: number): void {
    if (this.closed) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    // A delayed retry must not keep a stopping process alive.
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Adds `key` after its backoff (5 ms, 10 ms, 20 ms, ... up to the cap) and counts the failure. */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.addAfter(key, backoffDelay(failures, this.options));
  }

  /** The key succeeded: its next failure starts the backoff over. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Failures counted for `key` since it was last forgotten. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key, now, or undefined when none waits (the worker loop uses `get`). */
  tryGet(): string | undefined {
    const key = this.order.shift();
    if (key === undefined) return undefined;
    this.options.onDepth?.(this.order.length);
    this.processing.add(key);
    this.dirty.delete(key);
    return key;
  }

  /** The next key, waiting for one; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const key = this.tryGet();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker is finished with `key`: if it was added meanwhile, it waits again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.closed) this.push(key);
  }

  /** Stops handing out keys: waiting `get`s resolve undefined, delayed adds are dropped. */
  shutdown(): void {
    this.closed = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      // Hand the key straight to a waiting worker.
      this.processing.add(key);
      this.dirty.delete(key);
      waiter(key);
      return;
    }
    this.order.push(key);
    this.options.onDepth?.(this.order.length);
  }
}
