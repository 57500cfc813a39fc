import { describe, expect, it } from '@jest/globals';
import type { Member, ProbeAnswer } from './catchup.js';
import { planTopology } from './topology.js';

const m = (i: number): Member => ({
  pod: `demo-storage-${i}`,
  address: `demo-storage-${i}.demo-storage-headless:8765`,
});
const listing = (...is: number[]): ProbeAnswer => ({
  ok: true,
  peers: is.map((i) => ({ address: m(i).address, up: true })),
});

describe('planTopology', () => {
  it('adds new members to the nodes that do not list them yet', () => {
    const answers = new Map([
      ['demo-storage-0', listing(1)],
      ['demo-storage-1', listing(0)],
      ['demo-storage-2', listing(0, 1)],
    ]);
    expect(planTopology([m(0), m(1), m(2)], [], answers)).toEqual([
      { pod: 'demo-storage-0', add: [m(2).address], remove: [] },
      { pod: 'demo-storage-1', add: [m(2).address], remove: [] },
    ]);
  });

  it('removes former members that are gone', () => {
    const answers = new Map([
      ['demo-storage-0', listing(1, 2)],
      ['demo-storage-1', listing(0)],
    ]);
    expect(planTopology([m(0), m(1)], [m(2), m(3)], answers)).toEqual([
      { pod: 'demo-storage-0', add: [], remove: [m(2).address] },
    ]);
  });

  it('leaves nodes that did not answer alone, and changes nothing when lists match', () => {
    const answers = new Map<string, ProbeAnswer>([
      ['demo-storage-0', { ok: false, error: 'timed out' }],
      ['demo-storage-1', listing(0)],
    ]);
    expect(planTopology([m(0), m(1)], [], answers)).toEqual([]);
  });
});
