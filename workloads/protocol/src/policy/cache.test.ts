import { describe, expect, it } from '@jest/globals';
import { PolicyCache } from './cache.js';

describe('PolicyCache', () => {
  it('evicts the least recently used entry past its size', () => {
    let now = 0;
    const cache = new PolicyCache<number>({ maxSize: 2, ttlSeconds: 60, now: () => now });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.stats()).toMatchObject({ size: 2, evictions: 1, hits: 2, misses: 1 });
    now += 1;
  });

  it('expires entries after the TTL and changes size and TTL at run time', () => {
    let now = 0;
    const cache = new PolicyCache<string>({ now: () => now });
    expect(cache.stats()).toMatchObject({ maxSize: 1000, ttlSeconds: 3600 });
    cache.set('x', 'policy');
    now = 3_599_999;
    expect(cache.get('x')).toBe('policy');
    now = 3_600_000;
    expect(cache.get('x')).toBeUndefined();
    cache.setTtl(10);
    cache.set('y', 'p');
    now += 10_001;
    expect(cache.get('y')).toBeUndefined();
    for (const k of ['1', '2', '3']) cache.set(k, k);
    cache.resize(1);
    expect(cache.size).toBe(1);
    expect(cache.get('3')).toBe('3');
    expect(cache.hitRatio()).toBeCloseTo(2 / 4);
  });

  it('rejects nonsense sizes and TTLs', () => {
    const cache = new PolicyCache<number>({ now: () => 0 });
    expect(() => cache.resize(-1)).toThrow(RangeError);
    expect(() => cache.setTtl(1.5)).toThrow(RangeError);
  });
});
