import { describe, expect, it } from '@jest/globals';
import type { Peer } from '@dsm/api';
import { catchUp, entryFor, notSyncedBecause, type Member, type ProbeAnswer } from './catchup.js';

const NOW = Date.parse('2026-01-01T00:01:00Z');
const options = { now: NOW, maxAgeMs: 30_000 };
const fresh = new Date(NOW - 1000).toISOString();
const member = (i: number): Member => ({
  pod: `demo-storage-${i}`,
  address: `demo-storage-${i}.demo-storage-headless:8765`,
});
const synced = (m: Member, extra: Partial<Peer> = {}): Peer => ({
  address: m.address,
  up: true,
  nodeId: m.pod,
  behind: 0,
  lagSeconds: 0,
  lastSyncAt: fresh,
  ...extra,
});

describe('entryFor', () => {
  const m = member(1);
  it('finds a member by node id, by address, or by pod name as the first DNS label', () => {
    expect(entryFor([{ address: '10.0.0.9:8765', up: true, nodeId: m.pod }], m)?.address).toBe(
      '10.0.0.9:8765',
    );
    expect(entryFor([{ address: m.address, up: false }], m)?.address).toBe(m.address);
    const fqdn = 'demo-storage-1.demo-storage-headless.ns.svc:8765';
    expect(entryFor([{ address: fqdn, up: true }], m)?.address).toBe(fqdn);
  });
  it('does not confuse pods whose names share a prefix', () => {
    expect(entryFor([synced(member(10))], m)).toBeUndefined();
  });
  it('matches injected loopback addresses exactly', () => {
    const local = { pod: 'demo-storage-0', address: '127.0.0.1:40001' };
    expect(entryFor([{ address: '127.0.0.1:40002', up: true }], local)).toBeUndefined();
    expect(entryFor([{ address: '127.0.0.1:40001', up: true }], local)).toBeDefined();
  });
});

describe('notSyncedBecause', () => {
  const m = member(1);
  it('accepts only a fresh, up, error-free entry with behind 0', () => {
    expect(notSyncedBecause(synced(m), m.pod, options)).toBeUndefined();
  });
  it.each<[string, Partial<Peer> | undefined, string]>([
    ['missing', undefined, 'does not list demo-storage-1 as a peer'],
    ['down', { up: false, lastError: 'ECONNREFUSED' }, 'sees demo-storage-1 down (ECONNREFUSED)'],
    ['failing', { lastError: 'timeout' }, 'failed its last sync with demo-storage-1: timeout'],
    ['behind', { behind: 12 }, 'is 12 log entries behind demo-storage-1'],
    ['no position', { behind: undefined }, 'reports no catch-up position for demo-storage-1'],
    ['negative position', { behind: -1 }, 'reports no catch-up position for demo-storage-1'],
    ['fractional position', { behind: 0.5 }, 'reports no catch-up position for demo-storage-1'],
    ['never synced', { lastSyncAt: undefined }, 'has not synced with demo-storage-1 yet'],
    ['garbage time', { lastSyncAt: 'yesterday' }, 'has not synced with demo-storage-1 yet'],
    [
      'stale',
      { lastSyncAt: new Date(NOW - 120_000).toISOString() },
      'last synced with demo-storage-1 120 s ago',
    ],
  ])('%s', (_, change, why) => {
    const entry = change === undefined ? undefined : synced(m, change);
    expect(notSyncedBecause(entry, m.pod, options)).toBe(why);
  });
});

describe('catchUp', () => {
  const members = [member(0), member(1), member(2)];
  const everyoneElse = (i: number) => members.filter((_, j) => j !== i).map((m) => synced(m));

  it('a pod is caught up when it is synced with every other member', () => {
    const answers = new Map<string, ProbeAnswer>(
      members.map((m, i) => [m.pod, { ok: true, peers: everyoneElse(i) }]),
    );
    const result = catchUp(members, answers, options);
    expect([...result.caughtUp]).toEqual(members.map((m) => m.pod));
    expect(result.gaps.size).toBe(0);
  });

  it('peers that are not members (removed pods) do not hold a pod back', () => {
    const two = members.slice(0, 2);
    const answers = new Map<string, ProbeAnswer>([
      ['demo-storage-0', { ok: true, peers: [synced(member(1)), { address: member(2).address, up: false }] }],
      ['demo-storage-1', { ok: true, peers: [synced(member(0))] }],
    ]);
    expect(catchUp(two, answers, options).caughtUp.size).toBe(2);
  });

  it('names the first gap of each lagging pod; a silent pod is not caught up', () => {
    const answers = new Map<string, ProbeAnswer>([
      ['demo-storage-0', { ok: true, peers: everyoneElse(0) }],
      ['demo-storage-1', { ok: true, peers: [synced(member(0)), synced(member(2), { behind: 7 })] }],
      ['demo-storage-2', { ok: false, error: 'timed out after 2000 ms' }],
    ]);
    const result = catchUp(members, answers, options);
    expect([...result.caughtUp]).toEqual(['demo-storage-0']);
    expect(result.gaps.get('demo-storage-1')).toBe('demo-storage-1 is 7 log entries behind demo-storage-2');
    expect(result.gaps.get('demo-storage-2')).toBe('demo-storage-2 did not answer (timed out after 2000 ms)');
  });

  it('a pod not asked is not caught up (unless it is alone)', () => {
    expect(catchUp(members, new Map(), options).caughtUp.size).toBe(0);
    expect(catchUp([member(0)], new Map(), options).caughtUp.size).toBe(1);
  });
});
