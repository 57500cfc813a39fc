import { describe, expect, it } from '@jest/globals';
import { KeyedLocks } from './locks.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('KeyedLocks', () => {
  it('serialises work on one key and runs other keys concurrently', async () => {
    const locks = new KeyedLocks();
    const events: string[] = [];
    const job = (key: string, name: string) =>
      locks.run(key, async () => {
        events.push(`${name}:start`);
        await tick();
        events.push(`${name}:end`);
      });
    await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1')]);
    expect(events.indexOf('a1:end')).toBeLessThan(events.indexOf('a2:start'));
    expect(events.indexOf('b1:start')).toBeLessThan(events.indexOf('a1:end'));
    expect(locks.size).toBe(0);
  });

  it('releases the key when work throws', async () => {
    const locks = new KeyedLocks();
    await expect(locks.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(locks.run('k', async () => 7)).resolves.toBe(7);
  });

  it('takes several keys without deadlock', async () => {
    const locks = new KeyedLocks();
    const results = await Promise.all([
      locks.runAll(['x', 'y'], async () => {
        await tick();
        return 1;
      }),
      locks.runAll(['y', 'x'], async () => 2),
    ]);
    expect(results).toEqual([1, 2]);
  });
});
