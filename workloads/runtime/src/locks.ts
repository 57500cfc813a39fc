/**
 * Keyed mutual exclusion: work for one key runs one at a time, in arrival order; different keys run
 * concurrently. Appending to a chain must see the head it extends, so everything touching one identity
 * (or one token's supply record) goes through here.
 */
export class KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Runs `work` holding every key (taken in sorted order, so two callers never deadlock). */
  async runAll<T>(keys: string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> =>
      i === sorted.length ? work() : this.run(sorted[i]!, () => step(i + 1));
    return step(0);
  }

  get size(): number {
    return this.tails.size;
  }
}
