import { describe, expect, it } from '@jest/globals';
import { peersOfStatus } from './probe.js';
import { tokenRefusals } from './reconcile.js';

describe('peersOfStatus', () => {
  it("takes a storage node's /v1/status peers: the entries of its admin peer list", () => {
    const peers = [
      { address: 'demo-storage-1.demo-storage-headless:8765', up: true, nodeId: 'demo-storage-1', behind: 0 },
    ];
    expect(peersOfStatus({ service: 'dsm-storage', version: '1', peers })).toEqual({ ok: true, peers });
  });

  it('an answer without a valid peer list is no answer (fail closed), saying why', () => {
    expect(peersOfStatus({ service: 'dsm-core', version: '1' })).toMatchObject({ ok: false });
    expect(peersOfStatus({ peers: [{ address: 1 }] })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^its status has no valid peer list \(peers\.0\.address/),
    });
    expect(peersOfStatus(null)).toMatchObject({ ok: false });
  });
});

describe('tokenRefusals', () => {
  it('counts pods of the current revision (and unknown ones); a pod about to roll may hold the old token', () => {
    const pods = [
      { name: 'demo-storage-0', updated: true },
      { name: 'demo-storage-1', updated: false },
    ];
    expect(tokenRefusals(['demo-storage-0', 'demo-storage-1', 'demo-storage-2'], pods)).toEqual([
      'demo-storage-0',
      'demo-storage-2',
    ]);
    expect(tokenRefusals(['demo-storage-1'], pods)).toEqual([]);
  });
});
