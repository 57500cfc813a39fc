import { afterEach, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import { WorkQueue, backoffDelay } from './queue.js';

type Op = { op: 'add'; key: string } | { op: 'get' } | { op: 'done'; pick: number };

const keys = fc.constantFrom('a/x', 'a/y', 'b/x', 'b/z');
const ops = fc.array(
  fc.oneof(
    keys.map((key): Op => ({ op: 'add', key })),
    fc.constant<Op>({ op: 'get' }),
    fc.nat(7).map((pick): Op => ({ op: 'done', pick })),
  ),
  { maxLength: 80 },
);

/** Runs `script` as a set of workers would, then drains the queue; returns what happened. */
function simulate(script: Op[]) {
  const queue = new WorkQueue();
  const held: string[] = [];
  let clock = 0;
  const lastAdd = new Map<string, number>();
  const lastStart = new Map<string, number>();
  let adds = 0;
  let starts = 0;
  const start = (key: string) => {
    expect(held).not.toContain(key); // never two workers on one key
    held.push(key);
    lastStart.set(key, ++clock);
    starts++;
  };
  for (const step of script) {
    if (step.op === 'add') {
      queue.add(step.key);
      lastAdd.set(step.key, ++clock);
      adds++;
    } else if (step.op === 'get') {
      const key = queue.tryGet();
      if (key !== undefined) start(key);
    } else if (held.length > 0) {
      const [key] = held.splice(step.pick % held.length, 1);
      queue.done(key!);
    }
  }
  // Drain: finish what is held, then process everything still waiting.
  for (;;) {
    for (const key of held.splice(0)) queue.done(key);
    const key = queue.tryGet();
    if (key === undefined) break;
    start(key);
  }
  return { queue, lastAdd, lastStart, adds, starts };
}

describe('WorkQueue', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('processes every key again after its last add, never two workers on one key, never more often than added', () => {
    fc.assert(
      fc.property(ops, (script) => {
        const { lastAdd, lastStart, adds, starts, queue } = simulate(script);
        for (const [key, added] of lastAdd) expect(lastStart.get(key) ?? 0).toBeGreaterThan(added);
        expect(starts).toBeLessThanOrEqual(adds);
        expect(queue.depth).toBe(0);
      }),
    );
  });

  it('holds each waiting key once however often it is added', () => {
    fc.assert(
      fc.property(fc.array(keys, { maxLength: 50 }), (added) => {
        const queue = new WorkQueue();
        for (const key of added) queue.add(key);
        expect(queue.depth).toBe(new Set(added).size);
        const out: string[] = [];
        for (let key = queue.tryGet(); key !== undefined; key = queue.tryGet()) out.push(key);
        // First-add order, no duplicates.
        expect(out).toEqual([...new Set(added)]);
      }),
    );
  });

  it('queues a key added while it is processed only once done is called', () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    expect(queue.tryGet()).toBe('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.depth).toBe(0);
    expect(queue.tryGet()).toBeUndefined();
    queue.done('ns/a');
    expect(queue.depth).toBe(1);
    expect(queue.tryGet()).toBe('ns/a');
    queue.done('ns/a');
    expect(queue.tryGet()).toBeUndefined();
  });

  it('hands a key to a waiting worker and resolves waiting workers with undefined on shutdown', async () => {
    const queue = new WorkQueue();
    const first = queue.get();
    const second = queue.get();
    queue.add('ns/a');
    await expect(first).resolves.toBe('ns/a');
    queue.shutdown();
    await expect(second).resolves.toBeUndefined();
    await expect(queue.get()).resolves.toBeUndefined();
    queue.add('ns/b');
    expect(queue.depth).toBe(0);
  });

  it('reports its depth as it changes', () => {
    const depths: number[] = [];
    const queue = new WorkQueue({ onDepth: (d) => depths.push(d) });
    queue.add('ns/a');
    queue.add('ns/b');
    queue.tryGet();
    expect(depths).toEqual([1, 2, 1]);
  });

  it('adds after a delay, keeping the earliest pending one', () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();
    queue.addAfter('ns/a', 1000);
    queue.addAfter('ns/a', 5000);
    queue.addAfter('ns/a', 300);
    jest.advanceTimersByTime(299);
    expect(queue.depth).toBe(0);
    jest.advanceTimersByTime(1);
    expect(queue.depth).toBe(1);
    jest.advanceTimersByTime(10_000);
    expect(queue.depth).toBe(1);
  });

  it('backs a failing key off exponentially and starts over after forget', () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();
    const retryAfter = () => {
      queue.addRateLimited('ns/a');
      let waited = 0;
      while (queue.depth === 0) {
        jest.advanceTimersByTime(1);
        waited++;
      }
      queue.tryGet();
      queue.done('ns/a');
      return waited;
    };
    expect([retryAfter(), retryAfter(), retryAfter(), retryAfter()]).toEqual([5, 10, 20, 40]);
    expect(queue.retries('ns/a')).toBe(4);
    queue.forget('ns/a');
    expect(retryAfter()).toBe(5);
  });

  it('drops delayed adds on shutdown', () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();
    queue.addAfter('ns/a', 10);
    queue.shutdown();
    jest.advanceTimersByTime(100);
    expect(queue.depth).toBe(0);
  });
});

describe('backoffDelay', () => {
  it('starts at the base, doubles, and never passes the cap', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.integer({ min: 1, max: 1000 }), (failures, baseMs) => {
        const maxMs = 300_000;
        const delay = backoffDelay(failures, { baseMs, maxMs });
        expect(delay).toBeLessThanOrEqual(maxMs);
        expect(delay).toBeGreaterThanOrEqual(Math.min(baseMs, maxMs));
        expect(backoffDelay(failures + 1, { baseMs, maxMs })).toBe(Math.min(maxMs, delay * 2));
      }),
    );
    expect(backoffDelay(0)).toBe(5);
    expect(backoffDelay(1)).toBe(10);
    expect(backoffDelay(100)).toBe(300_000);
  });
});
