/**
 * LRU + TTL cache of verified policies by anchor (§6). Size and TTL change at run time
 * (`dsm config set --policy-cache-size N --policy-ttl SECONDS`). The clock is passed in: this package reads none.
 */
export interface PolicyCacheOptions {
  /** @default 1000 */
  maxSize?: number;
  /** @default 3600 */
  ttlSeconds?: number;
  /** Milliseconds since the epoch; the service passes Date.now. */
  now: () => number;
}

export interface CacheStats {
  size: number;
  maxSize: number;
  ttlSeconds: number;
  hits: number;
  misses: number;
  evictions: number;
}

export class PolicyCache<V> {
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private maxSize: number;
  private ttlMs: number;
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(options: PolicyCacheOptions) {
    this.now = options.now;
    this.maxSize = PolicyCache.checkSize(options.maxSize ?? 1000);
    this.ttlMs = PolicyCache.checkTtl(options.ttlSeconds ?? 3600) * 1000;
  }

  private static checkSize(size: number): number {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError('policy cache size must be an integer ≥ 0');
    return size;
  }

  private static checkTtl(seconds: number): number {
    if (!Number.isSafeInteger(seconds) || seconds < 0)
      throw new RangeError('policy TTL must be whole seconds ≥ 0');
    return seconds;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expires <= this.now()) {
      if (entry !== undefined) this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.maxSize === 0) return;
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    this.trim();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Shrinking evicts the least recently used entries at once. */
  resize(maxSize: number): void {
    this.maxSize = PolicyCache.checkSize(maxSize);
    this.trim();
  }

  /** Applies to entries stored from now on; existing entries keep the expiry they were given. */
  setTtl(seconds: number): void {
    this.ttlMs = PolicyCache.checkTtl(seconds) * 1000;
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): CacheStats {
    return {
      size: this.entries.size,
      maxSize: this.maxSize,
      ttlSeconds: this.ttlMs / 1000,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }

  /** Hits over lookups, 0 before the first lookup. */
  hitRatio(): number {
    const total = this.hits + this.misses;
    return total === 0 ? 0 : this.hits / total;
  }

  private trim(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxSize) break;
      this.entries.delete(key);
      this.evictions++;
    }
  }
}
