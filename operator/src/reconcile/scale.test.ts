import { describe, expect, it } from '@jest/globals';
import type { Peer } from '@dsm/api';
import type { Member, ProbeAnswer } from './catchup.js';
import { planScale, type ScaleInput } from './scale.js';

const NOW = Date.parse('2026-01-01T00:01:00Z');
const members: Member[] = Array.from({ length: 5 }, (_, i) => ({
  pod: `demo-storage-${i}`,
  address: `demo-storage-${i}.demo-storage-headless:8765`,
}));
const synced = (m: Member, extra: Partial<Peer> = {}): Peer => ({
  address: m.address,
  up: true,
  nodeId: m.pod,
  behind: 0,
  lastSyncAt: new Date(NOW - 500).toISOString(),
  ...extra,
});
/** Every pod synced with every other one of the first `count`. */
const allSynced = (count: number) =>
  new Map<string, ProbeAnswer>(
    members.slice(0, count).map((m, i) => [
      m.pod,
      {
        ok: true,
        peers: members
          .slice(0, count)
          .filter((_, j) => j !== i)
          .map((o) => synced(o)),
      },
    ]),
  );
const input = (over: Partial<ScaleInput>): ScaleInput => ({
  wanted: 2,
  current: 2,
  replicationFactor: 2,
  members,
  answers: new Map(),
  catchUp: { now: NOW, maxAgeMs: 30_000 },
  ...over,
});

describe('planScale', () => {
  it('creates and keeps the wanted count; scales up at once', () => {
    expect(planScale(input({ current: undefined }))).toEqual({ replicas: 2 });
    expect(planScale(input({}))).toEqual({ replicas: 2 });
    expect(planScale(input({ wanted: 4 }))).toEqual({ replicas: 4, direction: 'up' });
  });

  it('scales down once replicationFactor remaining pods are synced with every leaving pod', () => {
    expect(planScale(input({ wanted: 2, current: 4, answers: allSynced(4) }))).toEqual({
      replicas: 2,
      direction: 'down',
    });
  });

  it('refuses when a remaining pod is behind the leaving pod, naming both and what to do', () => {
    const answers = allSynced(3);
    answers.set('demo-storage-1', {
      ok: true,
      peers: [synced(members[0]!), synced(members[2]!, { behind: 40 })],
    });
    const plan = planScale(input({ wanted: 2, current: 3, answers }));
    expect(plan.replicas).toBe(3);
    expect(plan.refused?.pods).toEqual(['demo-storage-2']);
    expect(plan.refused?.message).toBe(
      'not removing storage pod demo-storage-2: its data is on 1 of the 2 remaining pods it must be on ' +
        '(replicationFactor 2): demo-storage-1 is 40 log entries behind demo-storage-2. Keeping 3 storage ' +
        'replicas (spec asks 2) and checking again; the remaining pods catch up by themselves while ' +
        'demo-storage-2 runs. If demo-storage-2 is down, start it again (its data may be nowhere else), or ' +
        'set spec.storage.replicas back to 3.',
    );
  });

  it('steps down past the safe top pods and stops at the first unsafe one', () => {
    const answers = allSynced(4);
    // demo-storage-3 is safe; demo-storage-2 is not (demo-storage-0 is behind it).
    answers.set('demo-storage-0', {
      ok: true,
      peers: [synced(members[1]!), synced(members[2]!, { behind: 1 }), synced(members[3]!)],
    });
    const plan = planScale(input({ wanted: 2, current: 4, answers }));
    expect(plan.replicas).toBe(3);
    expect(plan.refused?.pods).toEqual(['demo-storage-2']);
  });

  it('replicationFactor 1 needs one remaining holder', () => {
    const answers = allSynced(3);
    answers.set('demo-storage-1', { ok: false, error: 'timed out' });
    expect(planScale(input({ wanted: 2, current: 3, replicationFactor: 1, answers })).replicas).toBe(2);
    expect(planScale(input({ wanted: 2, current: 3, replicationFactor: 2, answers })).replicas).toBe(3);
  });

  describe('fails closed', () => {
    const refusedWith = (answers: Map<string, ProbeAnswer>) => {
      const plan = planScale(input({ wanted: 2, current: 3, answers }));
      expect(plan.replicas).toBe(3);
      return plan.refused?.message ?? '';
    };
    const withPeer1 = (peers: Peer[] | 'silent') => {
      const answers = allSynced(3);
      answers.set(
        'demo-storage-1',
        peers === 'silent' ? { ok: false, error: 'timed out after 2000 ms' } : { ok: true, peers },
      );
      return answers;
    };

    it('no answers at all', () => {
      expect(refusedWith(new Map())).toContain('demo-storage-0 was not asked for its peers');
    });
    it('a remaining pod that does not answer (slow or down)', () => {
      expect(refusedWith(withPeer1('silent'))).toContain(
        'demo-storage-1 did not answer (timed out after 2000 ms)',
      );
    });
    it('the leaving pod missing from a peer list', () => {
      expect(refusedWith(withPeer1([synced(members[0]!)]))).toContain(
        'demo-storage-1 does not list demo-storage-2',
      );
    });
    it('the leaving pod seen down (its data cannot be checked)', () => {
      expect(refusedWith(withPeer1([synced(members[0]!), synced(members[2]!, { up: false })]))).toContain(
        'demo-storage-1 sees demo-storage-2 down',
      );
    });
    it('behind 0 without ever having synced (the storage node reports 0 before its first pull)', () => {
      const neverSynced: Peer = { address: members[2]!.address, up: true, behind: 0, lagSeconds: 0 };
      expect(refusedWith(withPeer1([synced(members[0]!), neverSynced]))).toContain('has not synced');
    });
    it('a stale entry', () => {
      const stale = synced(members[2]!, { lastSyncAt: new Date(NOW - 300_000).toISOString() });
      expect(refusedWith(withPeer1([synced(members[0]!), stale]))).toContain(
        'last synced with demo-storage-2 300 s ago',
      );
    });
    it('an entry with an error despite behind 0', () => {
      const failing = synced(members[2]!, { lastError: 'peer misbehaving' });
      expect(refusedWith(withPeer1([synced(members[0]!), failing]))).toContain('failed its last sync');
    });
    it('a lying answer: no catch-up position, or a negative one', () => {
      expect(
        refusedWith(withPeer1([synced(members[0]!), synced(members[2]!, { behind: undefined })])),
      ).toContain('no catch-up position');
      expect(refusedWith(withPeer1([synced(members[0]!), synced(members[2]!, { behind: -5 })]))).toContain(
        'no catch-up position',
      );
    });
    it('the leaving pod reporting itself synced does not count (only remaining pods hold data after)', () => {
      const answers = withPeer1('silent');
      answers.set('demo-storage-2', { ok: true, peers: [synced(members[0]!), synced(members[1]!)] });
      expect(planScale(input({ wanted: 2, current: 3, answers })).replicas).toBe(3);
    });
  });
});
