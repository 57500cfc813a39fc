import { describe, expect, it } from '@jest/globals';
import { Gate } from './gate.js';

const tick = (ms = 2) => new Promise((r) => setTimeout(r, ms));

describe('Gate', () => {
  it('runs shared work together and exclusive work alone', async () => {
    const gate = new Gate();
    const events: string[] = [];
    const shared = (name: string) =>
      gate.shared(async () => {
        events.push(`${name}+`);
        await tick();
        events.push(`${name}-`);
      });
    const first = shared('a');
    const exclusive = gate.exclusively(async () => {
      events.push('X+');
      await tick();
      events.push('X-');
    });
    await Promise.all([first, exclusive, shared('b')]);
    const x = events.indexOf('X+');
    expect(events[x + 1]).toBe('X-');
    expect(events.indexOf('a-')).toBeLessThan(x); // a was already running: the page waited for it
    expect(events.indexOf('b+')).toBeGreaterThan(events.indexOf('X-')); // b arrived during the page
  });
});
