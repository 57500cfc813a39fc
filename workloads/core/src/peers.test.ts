import { describe, expect, it } from '@jest/globals';
import { apiUrlOf, creationTarget, mergeHosted, ownershipOf } from './peers.js';

describe('creationTarget', () => {
  const peers = ['core-1.core:8765', 'core-0.core:8765', 'core-2.core:8765'];
  it('names the same node whatever the order or duplicates of the list', () => {
    for (const key of ['a', 'b', 'retry-me', 'x'.repeat(255)]) {
      const target = creationTarget(peers, key);
      expect(peers).toContain(target);
      expect(creationTarget([...peers].reverse(), key)).toBe(target);
      expect(creationTarget([...peers, peers[0]!], key)).toBe(target);
    }
  });
  it('spreads keys over the nodes, and names none without peers', () => {
    const hits = new Set(Array.from({ length: 64 }, (_, i) => creationTarget(peers, `key-${i}`)));
    expect(hits.size).toBe(3);
    expect(creationTarget([], 'a')).toBeUndefined();
  });
});

describe('apiUrlOf', () => {
  it('keeps the host of the P2P address, IPv6 included', () => {
    expect(apiUrlOf('core-0.core.ns.svc:8765', 7545)).toBe('http://core-0.core.ns.svc:7545');
    expect(apiUrlOf('[::1]:8765', 7545)).toBe('http://[::1]:7545');
  });
});

describe('ownershipOf', () => {
  it('lists claimants in order and the peers that did not answer, never this node itself', () => {
    expect(
      ownershipOf(
        [
          { peer: 'self:1', hosted: true, nodeId: 'me' },
          { peer: 'liar:1', hosted: true, nodeId: 'l' },
          { peer: 'down:1', error: 'ECONNREFUSED' },
          { peer: 'no:1', hosted: false, nodeId: 'n' },
          { peer: 'owner:1', hosted: true, nodeId: 'o' },
        ],
        'me',
      ),
    ).toEqual({ claimants: ['liar:1', 'owner:1'], unreachable: [{ peer: 'down:1', error: 'ECONNREFUSED' }] });
  });
});

describe('mergeHosted', () => {
  it('is each identity once, in id order, with its fields in one order', () => {
    const x = { createdAt: 't1', suite: 'ml-dsa-65' as const, identity: 'b', label: 'x' };
    const y = { identity: 'a', suite: 'ml-dsa-44' as const, createdAt: 't2' };
    const merged = mergeHosted([[x], [y, { ...x, label: 'other copy' }]]);
    expect(merged).toEqual([y, x]);
    expect(JSON.stringify(merged[1])).toBe(
      '{"identity":"b","suite":"ml-dsa-65","label":"x","createdAt":"t1"}',
    );
  });
});
