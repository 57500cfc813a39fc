import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  decideLease,
  holderIdentity,
  leaseExpiry,
  leaseRecordFor,
  recordOf,
  releasedRecord,
  renewDeadlinePassed,
} from './leader.js';

const ME = 'operator-0_aaaa';
const OTHER = 'operator-1_bbbb';
const T = Date.parse('2030-01-01T00:00:00Z');

describe('decideLease', () => {
  it('creates a Lease that does not exist', () => {
    expect(decideLease(undefined, T, ME, 2000)).toEqual({ action: 'create' });
  });

  it('acquires a Lease without a holder (released) at once', () => {
    const released = releasedRecord({ holderIdentity: OTHER, leaseTransitions: 3 }, T);
    expect(decideLease(released, T, ME, 2000)).toEqual({ action: 'acquire' });
    expect(decideLease({}, T, ME, 2000)).toEqual({ action: 'acquire' });
  });

  it('renews its own Lease', () => {
    const mine = { holderIdentity: ME, leaseDurationSeconds: 15, renewTime: T - 100_000 };
    expect(decideLease(mine, T, ME, 2000)).toEqual({ action: 'renew' });
  });

  it('waits while another holder is valid, and acquires once its Lease ran out', () => {
    const theirs = { holderIdentity: OTHER, leaseDurationSeconds: 15, renewTime: T };
    expect(decideLease(theirs, T + 1000, ME, 2000)).toEqual({
      action: 'wait',
      holder: OTHER,
      retryInMs: 2000,
    });
    // Just before expiry the wait ends right after it, not a whole retry period later.
    expect(decideLease(theirs, T + 14_500, ME, 2000)).toEqual({
      action: 'wait',
      holder: OTHER,
      retryInMs: 501,
    });
    expect(decideLease(theirs, T + 15_000, ME, 2000)).toEqual({ action: 'acquire' });
  });

  it('never lets two identities both hold a valid Lease at the same time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: -120_000, max: 120_000 }),
        fc.constantFrom(ME, OTHER, ''),
        (seconds, offset, holder) => {
          const record = { holderIdentity: holder, leaseDurationSeconds: seconds, renewTime: T };
          const now = T + offset;
          const takes = (id: string) => decideLease(record, now, id, 2000).action !== 'wait';
          // Whoever may act, the other must wait, unless the Lease is free or expired for both.
          const open = holder === '' || leaseExpiry(record) <= now;
          if (!open) expect([takes(ME), takes(OTHER)].filter(Boolean)).toHaveLength(1);
        },
      ),
    );
  });

  it('waits at least 1 ms and at most a retry period', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 120_000 }),
        (seconds, offset) => {
          const d = decideLease(
            { holderIdentity: OTHER, leaseDurationSeconds: seconds, renewTime: T },
            T + offset,
            ME,
            2000,
          );
          if (d.action === 'wait') {
            expect(d.retryInMs).toBeGreaterThanOrEqual(1);
            expect(d.retryInMs).toBeLessThanOrEqual(2000);
            expect(T + offset + d.retryInMs).toBeLessThanOrEqual(
              leaseExpiry({ leaseDurationSeconds: seconds, renewTime: T }) + 1 + 2000,
            );
          }
        },
      ),
    );
  });
});

describe('leaseRecordFor', () => {
  it('counts a transition when the Lease is taken from another holder, not when renewed or created', () => {
    const theirs = { holderIdentity: OTHER, leaseTransitions: 4, acquireTime: T - 9000, renewTime: T - 9000 };
    expect(leaseRecordFor('acquire', theirs, ME, T, 15_000)).toEqual({
      holderIdentity: ME,
      leaseDurationSeconds: 15,
      acquireTime: T,
      renewTime: T,
      leaseTransitions: 5,
    });
    const mine = { holderIdentity: ME, leaseTransitions: 5, acquireTime: T - 60_000, renewTime: T - 2000 };
    expect(leaseRecordFor('renew', mine, ME, T, 15_000)).toMatchObject({
      acquireTime: T - 60_000,
      renewTime: T,
      leaseTransitions: 5,
    });
    expect(leaseRecordFor('create', undefined, ME, T, 15_000).leaseTransitions).toBe(0);
    // A released Lease (no holder) taken over is not a transition away from anyone.
    expect(leaseRecordFor('acquire', releasedRecord(theirs, T), ME, T, 15_000).leaseTransitions).toBe(4);
  });

  it('rounds the duration up to whole seconds', () => {
    expect(leaseRecordFor('create', undefined, ME, T, 1500).leaseDurationSeconds).toBe(2);
  });
});

describe('renewDeadlinePassed', () => {
  it('gives up exactly when the deadline has passed since the last renew', () => {
    expect(renewDeadlinePassed(T, T + 9999, 10_000)).toBe(false);
    expect(renewDeadlinePassed(T, T + 10_000, 10_000)).toBe(true);
  });
});

describe('Lease objects', () => {
  it('reads times written as MicroTime strings or Dates', () => {
    const record = recordOf({
      spec: {
        holderIdentity: OTHER,
        leaseDurationSeconds: 15,
        renewTime: '2030-01-01T00:00:01.000000Z' as unknown as Date,
        acquireTime: new Date(T),
      },
    });
    expect(record).toMatchObject({ renewTime: T + 1000, acquireTime: T, holderIdentity: OTHER });
  });

  it('names the holder after the pod with a random suffix', () => {
    expect(holderIdentity('dsm-operator-7d9f-x2x', () => 'cafe')).toBe('dsm-operator-7d9f-x2x_cafe');
    expect(holderIdentity('p')).toMatch(/^p_[0-9a-f]{8}$/);
  });
});
