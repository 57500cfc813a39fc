import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { idOf } from '@dsm/protocol';
import { FakeCore, UNAVAILABLE, dsmAt } from '../../test/fake-core.js';

const alice = idOf({ who: 'alice' }).toString();
const bob = idOf({ who: 'bob' }).toString();
const gold = idOf({ token: 'GLD' }).toString();
const created = {
  identity: alice,
  suite: 'ml-dsa-65',
  label: 'alice',
  createdAt: '2026-01-01T00:00:00.000Z',
  n: 0,
  stateId: 'genesis',
  op: 'genesis',
  balances: {},
  replicas: ['s0:8765'],
};

let core: FakeCore;
const dsm = (...args: string[]) => dsmAt(core.url, ...args);

beforeAll(async () => {
  core = await new FakeCore().start();
});
afterAll(() => core.close());
beforeEach(() => {
  core.reset();
  core.on('GET', `/v1/tokens/${gold}`, [
    200,
    {
      token: gold,
      issuer: gold,
      symbol: 'GLD',
      name: 'Gold',
      decimals: 2,
      initialSupply: '100000',
      policy: gold,
      created: true,
      supply: { issued: '100000', burned: '0' },
    },
  ]);
});

describe('identity create', () => {
  it('sends one key, the same on the retry after a 503, and takes --idempotency-key', async () => {
    core.on('POST', '/v1/identities', UNAVAILABLE, [200, created]);
    expect((await dsm('identity', 'create', '--label', 'alice', '--quiet')).stdout).toBe(`${alice}\n`);
    const [first, second] = core.to('POST', '/v1/identities');
    expect(first!.key).toMatch(/^"[0-9a-f-]{36}"$/);
    expect(second).toEqual(first);

    core.reset();
    core.on('POST', '/v1/identities', [200, created]);
    await dsm('identity', 'create', '--label', 'alice', '--idempotency-key', 'alice-1');
    expect(core.to('POST', '/v1/identities')).toEqual([
      { method: 'POST', path: '/v1/identities', key: '"alice-1"', body: { label: 'alice' } },
    ]);
  });
});

describe('identity reads in the tokens decimals', () => {
  it('balances: text in the decimals, JSON with display fields, --raw as sent', async () => {
    const balances = { identity: bob, n: 1, balances: { [gold]: { available: '2500', locked: '0' } } };
    core.on('GET', `/v1/identities/${bob}/balances`, [200, balances]);
    expect((await dsm('identity', 'balances', bob)).stdout).toMatch(new RegExp(`${gold} +25\\.00 +0\\.00`));
    expect(JSON.parse((await dsm('identity', 'balances', bob, '--json')).stdout)).toEqual({
      ...balances,
      balances: {
        [gold]: {
          available: '2500',
          locked: '0',
          decimals: 2,
          availableDisplay: '25.00',
          lockedDisplay: '0.00',
        },
      },
    });
    expect(JSON.parse((await dsm('identity', 'balances', bob, '--json', '--raw')).stdout)).toEqual(balances);
    expect((await dsm('identity', 'balances', bob, '--raw')).stdout).toMatch(new RegExp(`${gold} +2500 +0`));
  });

  it('inbox: amounts in the decimals, amountDisplay in JSON', async () => {
    const entry = { transfer: 't1', seq: 1, from: alice, token: gold, amount: '2500', received: false };
    core.on('GET', `/v1/identities/${bob}/inbox`, [200, { identity: bob, entries: [entry] }]);
    expect((await dsm('identity', 'inbox', bob)).stdout).toMatch(/ 25\.00 +pending/);
    expect(JSON.parse((await dsm('identity', 'inbox', bob, '--json')).stdout)).toEqual({
      identity: bob,
      entries: [{ ...entry, decimals: 2, amountDisplay: '25.00' }],
    });
  });
});
