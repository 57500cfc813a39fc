import { describe, expect, it } from '@jest/globals';
import { Batcher, type Settled } from './batcher.js';

/** A send that records each batch and settles it when the test says. */
function recorder() {
  const batches: { items: number[]; settle: (outcomes: Settled<string>[] | Error) => void }[] = [];
  const send = (items: number[]) =>
    new Promise<Settled<string>[]>((resolve, reject) =>
      batches.push({ items, settle: (o) => (o instanceof Error ? reject(o) : resolve(o)) }),
    );
  return { batches, send };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('Batcher', () => {
  it('sends a lone item at once and gathers what arrives while batches are in flight', async () => {
    const { batches, send } = recorder();
    const batcher = new Batcher<number, string>({ inFlight: 1, maxItems: 3, send });
    const first = batcher.submit(1);
    const rest = Promise.allSettled([2, 3, 4, 5].map((n) => batcher.submit(n)));
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    batches[0]!.settle([{ value: 'one' }]);
    expect(await first).toBe('one');
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4]]);
    batches[1]!.settle([{ value: 'two' }, { error: new Error('three refused') }, { value: 'four' }]);
    await tick();
    expect(batches[2]!.items).toEqual([5]);
    batches[2]!.settle(new Error('down'));
    const outcomes = await rest;
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([
      'two',
      'three refused',
      'four',
      'down',
    ]);
  });

  it('keeps up to inFlight batches out and respects the byte budget after the first item', async () => {
    const { batches, send } = recorder();
    const batcher = new Batcher<number, string>({
      inFlight: 2,
      maxItems: 10,
      maxBytes: 5,
      bytesOf: (n) => n,
      send,
    });
    const all = Promise.allSettled([9, 1, 2, 2, 2, 1].map((n) => batcher.submit(n)));
    expect(batches.map((b) => b.items)).toEqual([[9], [1]]);
    batches[0]!.settle([{ value: 'a' }]);
    await tick();
    expect(batches[2]!.items).toEqual([2, 2]);
    batches[1]!.settle([]); // the wrong count fails the batch's items
    await tick();
    expect(batches[3]!.items).toEqual([2, 1]);
    batches[2]!.settle([{ value: 'c' }, { value: 'd' }]);
    batches[3]!.settle([{ value: 'e' }, { value: 'f' }]);
    expect((await all).map((o) => (o.status === 'fulfilled' ? o.value : 'rejected'))).toEqual([
      'a',
      'rejected',
      'c',
      'd',
      'e',
      'f',
    ]);
  });
});
